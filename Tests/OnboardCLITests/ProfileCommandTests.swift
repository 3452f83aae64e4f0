import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `onboard profile` on the shipped demo ViT: JSON contract, memory arithmetic, board fit, board-file errors.
final class ProfileCommandTests: XCTestCase {
    var directory = ""
    let model = (TestPaths.root as NSString).appendingPathComponent("Configs/models/vit-demo")

    override func setUp() { directory = TestPaths.temporaryDirectory("profile") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func profileJSON(_ extra: [String], line: UInt = #line) throws -> [String: Any] {
        let result = try Onboard.run(["profile", "--model", model, "--runs", "2", "--warmup", "0", "--threads", "1", "--json"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr, line: line)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], line: line)
    }

    func board(_ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    let tinyBoard = """
        name: Tiny MCU
        vendor_doc: https://example.com/tiny
        ram_bytes: 2097152
        cpu: one small core
        cpu_cores: 1
        memory_budget_bytes: 1048576
        """

    func test_jsonReportsEveryKeyAndPeakIsWeightsPlusActivations() throws {
        let report = try profileJSON(["--board", "rk3588-16gb"])
        for key in ["model", "precision", "board", "ops", "weights_bytes", "activation_peak_bytes", "scratch_bytes", "peak_bytes",
                    "peak_rss_bytes", "fits", "margin_bytes", "median_ms"] {
            XCTAssertNotNil(report[key], "missing \(key)")
        }
        XCTAssertEqual(report["precision"] as? String, "fp32")
        let weights = try XCTUnwrap(report["weights_bytes"] as? Int)
        let activations = try XCTUnwrap(report["activation_peak_bytes"] as? Int)
        let scratch = try XCTUnwrap(report["scratch_bytes"] as? Int)
        let peak = try XCTUnwrap(report["peak_bytes"] as? Int)
        // Each op's scratch is planned inside the activation arena.
        XCTAssertEqual(peak, weights + activations)
        // The f16 checkpoint's 1,967,434 parameters, held as f32.
        XCTAssertEqual(weights, 7_869_736)
        XCTAssertGreaterThan(activations, 0)
        XCTAssertGreaterThan(report["peak_rss_bytes"] as? Int ?? 0, weights)
        #if os(Linux)
        // The resident breakdown: its parts add up, and the f32 weights live on the heap.
        let resident = try XCTUnwrap(report["resident"] as? [String: Int])
        let parts = ["binary_bytes", "heap_bytes", "stack_bytes", "mapped_weights_bytes", "other_bytes"].map { resident[$0] ?? -1 }
        XCTAssertTrue(parts.allSatisfy { $0 >= 0 }, "\(resident)")
        XCTAssertEqual(parts.reduce(0, +), resident["total_bytes"])
        XCTAssertGreaterThan(resident["binary_bytes"] ?? 0, 1 << 20)
        XCTAssertGreaterThan(resident["heap_bytes"] ?? 0, weights)
        #endif

        let board = try XCTUnwrap(report["board"] as? [String: Any])
        XCTAssertEqual(board["ram_bytes"] as? Int, 17_179_869_184)
        XCTAssertEqual(board["cpu_cores"] as? Int, 8)
        let budget = try XCTUnwrap(board["memory_budget_bytes"] as? Int)
        XCTAssertEqual(budget, 17_179_869_184 - 1_610_612_736)
        XCTAssertEqual(report["fits"] as? Bool, true)
        XCTAssertEqual(report["margin_bytes"] as? Int, budget - peak)

        let ops = try XCTUnwrap(report["ops"] as? [[String: Any]])
        // 4 blocks of the demo DeiT-Tiny, in execution order.
        XCTAssertEqual(ops.first?["name"] as? String, "patch_embed.proj")
        XCTAssertEqual(ops.first?["kind"] as? String, "conv2d")
        XCTAssertEqual(ops.filter { $0["kind"] as? String == "linear" }.count, 4 * 4 + 1)
        let live = ops.compactMap { $0["live_bytes"] as? Int }
        XCTAssertEqual(live.count, ops.count)
        XCTAssertLessThanOrEqual(live.max() ?? .max, activations)
        // The patch embedding's input (3x224x224 f32) and output (192x14x14 f32) are both live while it
        // runs, and its scratch: the 196 patches of 768 floats.
        let patchEmbedBytes: Int = (3 * 224 * 224 + 192 * 14 * 14) * 4
        XCTAssertEqual(ops.first?["scratch_bytes"] as? Int, 196 * 768 * 4)
        XCTAssertEqual(live.first, patchEmbedBytes + 196 * 768 * 4)
        XCTAssertEqual(ops.compactMap { $0["scratch_bytes"] as? Int }.max(), scratch)
        for op in ops {
            let opLive: Int = op["live_bytes"] as? Int ?? -1
            XCTAssertEqual(op["total_bytes"] as? Int, opLive + weights)
            XCTAssertGreaterThanOrEqual(op["ms"] as? Double ?? -1, 0)
        }
        let linearMs = ops.filter { $0["kind"] as? String == "linear" }.compactMap { $0["ms"] as? Double }.reduce(0, +)
        XCTAssertGreaterThan(linearMs, 0)
        XCTAssertGreaterThan(report["median_ms"] as? Double ?? 0, 0)
    }

    func test_tinyBoardDoesNotFitAndTheTableSaysSo() throws {
        let tiny = try board("tiny", tinyBoard)
        let report = try profileJSON(["--board", tiny])
        let peak = try XCTUnwrap(report["peak_bytes"] as? Int)
        XCTAssertEqual(report["fits"] as? Bool, false)
        XCTAssertEqual(report["margin_bytes"] as? Int, 1_048_576 - peak)
        XCTAssertEqual((report["board"] as? [String: Any])?["name"] as? String, "Tiny MCU")

        let text = try Onboard.run(["profile", "--model", model, "--runs", "1", "--threads", "1", "--board", tiny])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("Tiny MCU") && text.stdout.contains("DOES NOT FIT"), text.stdout)
        XCTAssertTrue(text.stdout.contains("patch_embed.proj"), text.stdout)
    }

    func test_withoutBoardFitIsNull() throws {
        let report = try profileJSON([])
        XCTAssertTrue(report["board"] is NSNull)
        XCTAssertTrue(report["fits"] is NSNull)
        XCTAssertTrue(report["margin_bytes"] is NSNull)
    }

    func test_shippedBoardFilesLoad() throws {
        let boards = (TestPaths.root as NSString).appendingPathComponent("Configs/boards")
        let names = try FileManager.default.contentsOfDirectory(atPath: boards).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(names, ["jetson-agx-orin-32gb.yaml", "jetson-orin-nano-8gb.yaml", "raspberry-pi-5-8gb.yaml", "rk3588-16gb.yaml"])
        let report = try profileJSON(["--board", "\(boards)/raspberry-pi-5-8gb.yaml"])
        let board = try XCTUnwrap(report["board"] as? [String: Any])
        XCTAssertEqual(board["cpu_cores"] as? Int, 4)
        XCTAssertEqual(board["ram_bytes"] as? Int, 8 << 30)
        XCTAssertEqual(board["memory_budget_bytes"] as? Int, 7 << 30)
    }

    func test_badBoardFilesAreOneLineErrorsNamingFileAndField() throws {
        func profile(_ boardPath: String) throws -> CommandResult {
            try Onboard.run(["profile", "--model", model, "--runs", "1", "--board", boardPath])
        }
        let missing = try board("missing", tinyBoard.replacingOccurrences(of: "ram_bytes: 2097152\n", with: ""))
        assertUserError(try profile(missing), status: 1, contains: "missing.yaml: ram_bytes: missing")
        let text = try board("text", tinyBoard.replacingOccurrences(of: "ram_bytes: 2097152", with: "ram_bytes: 2 MiB"))
        assertUserError(try profile(text), status: 1, contains: "text.yaml: ram_bytes: must be a non-negative integer")
        let over = try board("over", tinyBoard.replacingOccurrences(of: "memory_budget_bytes: 1048576", with: "memory_budget_bytes: 4194304"))
        assertUserError(try profile(over), status: 1, contains: "over.yaml: memory_budget_bytes: 4194304 exceeds ram_bytes 2097152")
        let reserve = try board("reserve", tinyBoard + "\nos_reserve_bytes: 1000\n")
        assertUserError(try profile(reserve), status: 1, contains: "reserve.yaml: memory_budget_bytes: 1048576 is not ram_bytes - os_reserve_bytes")
        let typo = try board("typo", tinyBoard + "\ncpu_core: 4\n")
        assertUserError(try profile(typo), status: 1, contains: "typo.yaml: cpu_core: unknown field")
        let url = try board("url", tinyBoard.replacingOccurrences(of: "https://example.com/tiny", with: "example.com"))
        assertUserError(try profile(url), status: 1, contains: "url.yaml: vendor_doc: must be an https:// URL")
        let broken = try board("broken", "name: [unclosed\n")
        assertUserError(try profile(broken), status: 1, contains: "broken.yaml: invalid YAML")
        let list = try board("list", "- a\n- b\n")
        assertUserError(try profile(list), status: 1, contains: "list.yaml: expected a mapping")
        // Found by the board fuzz target: non-string keys made the YAML library trap.
        let complexKey = try board("complex-key", "? ?\n")
        assertUserError(try profile(complexKey), status: 1, contains: "complex-key.yaml: board field names must be plain strings")
        let listKey = try board("list-key", tinyBoard + "\n? [a, b]\n: 1\n")
        assertUserError(try profile(listKey), status: 1, contains: "list-key.yaml: board field names must be plain strings")
        let nested = try board("nested", tinyBoard.replacingOccurrences(of: "ram_bytes: 2097152", with: "ram_bytes: {? [x]: 1}"))
        assertUserError(try profile(nested), status: 1, contains: "nested.yaml: ram_bytes: must be a single value")
        assertUserError(try profile("\(directory)/absent.yaml"), status: 1, contains: "absent.yaml: cannot read board file")
        assertUserError(try profile("no-such-board"), status: 1, contains: "unknown board 'no-such-board' (known: jetson-agx-orin-32gb")
        assertUserError(try Onboard.run(["profile", "--model", model, "--runs", "0"]), status: 2, contains: "--runs must be >= 1")
    }

    func test_int8ProfilesTheQuantizedBundle() throws {
        let calibration = "\(directory)/calibration"
        try FileManager.default.createDirectory(atPath: calibration, withIntermediateDirectories: true)
        var random = TestRandom(seed: 7)
        for i in 0..<2 {
            try SafeTensorsWriter.write([("pixel_values", random.gaussian([1, 3, 224, 224]))], to: "\(calibration)/\(i).safetensors")
        }
        assertUserError(try Onboard.run(["profile", "--model", model, "--precision", "int8", "--runs", "1"]),
                        status: 1, contains: "precision int8 needs a quantized bundle")
        let quantized = "\(directory)/int8"
        let quantize = try Onboard.run(["quantize", "--model", model, "--calibration", calibration, "--out", quantized, "--threads", "2"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)

        let int8 = try Onboard.run(["profile", "--model", quantized, "--precision", "int8", "--runs", "2", "--threads", "1", "--json",
                                    "--board", "raspberry-pi-5-8gb"])
        XCTAssertEqual(int8.status, 0, int8.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(int8.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["precision"] as? String, "int8")
        let weights = try XCTUnwrap(report["weights_bytes"] as? Int)
        // int8 codes of the linear/conv weights are a quarter of their f32 bytes.
        XCTAssertLessThan(weights, 7_869_736 / 2)
        let activations = try XCTUnwrap(report["activation_peak_bytes"] as? Int)
        XCTAssertEqual(report["peak_bytes"] as? Int, weights + activations)
        let ops = try XCTUnwrap(report["ops"] as? [[String: Any]])
        // Quantized activations take one byte per element: the patch embedding's input and output,
        // besides its scratch.
        let patchEmbedBytes: Int = 3 * 224 * 224 + 192 * 14 * 14
        let first = try XCTUnwrap(ops.first)
        XCTAssertEqual((first["live_bytes"] as? Int).map { $0 - (first["scratch_bytes"] as? Int ?? 0) }, patchEmbedBytes)
        XCTAssertEqual(report["fits"] as? Bool, true)
    }
}

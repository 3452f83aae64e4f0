import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// Starts `onboard`, sends `signal` once `ready(stderr so far)` holds, and returns its exit status and stderr.
func interrupted(_ arguments: [String], signal: Int32, ready: (String) -> Bool) throws -> CommandResult {
    let process = Process()
    process.executableURL = Onboard.executable
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.root)
    let log = (NSTemporaryDirectory() as NSString).appendingPathComponent("onboard-stderr-\(UUID().uuidString).txt")
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: log) }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    try process.run()
    func stderr() -> String { String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self) }
    let deadline = Date().addingTimeInterval(30)
    while !ready(stderr()) && process.isRunning && Date() < deadline { usleep(5_000) }
    XCTAssertTrue(process.isRunning, "onboard finished before it could be interrupted")
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: "", stderr: stderr())
}

/// Every file under `directory` with its bytes.
func snapshot(_ directory: String) -> [String: Data] {
    var files: [String: Data] = [:]
    for relative in (try? FileManager.default.subpathsOfDirectory(atPath: directory)) ?? [] {
        files[relative] = FileManager.default.contents(atPath: "\(directory)/\(relative)") ?? Data()
    }
    return files
}

func listing(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
}

/// What every command that writes does with its output path.
final class OutputSafetyTests: XCTestCase {
    var directory = ""
    let model = TestPaths.fixture("vit/cls_token")

    override func setUp() { directory = TestPaths.temporaryDirectory("cli-output") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// `count` calibration inputs (links to the fixture's).
    func calibration(_ count: Int) throws -> String {
        let set = "\(directory)/calibration-\(count)"
        try FileManager.default.createDirectory(atPath: set, withIntermediateDirectories: false)
        for i in 0..<count {
            try FileManager.default.createSymbolicLink(atPath: "\(set)/\(i).safetensors", withDestinationPath: "\(model)/inputs.safetensors")
        }
        return set
    }

    func test_fileOutputOntoADirectoryIsOneErrorAndTheDirectoryStays() throws {
        let out = "\(directory)/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try AtomicFile(path: "\(out)/keep.txt").write(string: "keep")
        let eval = TestPaths.fixture("nuscenes-eval"), weights = "\(model)/model.safetensors"
        let delta = "\(directory)/delta.safetensors"
        let compress = try Onboard.run(["delta", "compress", "--base", weights, "--finetuned", weights, "--ratio", "4", "--out", delta])
        XCTAssertEqual(compress.status, 0, compress.stderr)
        // detect and preprocess: ValidateCommandTests (they need a camera set).
        let commands: [[String]] = [
            ["run", "--model", model, "--inputs", "\(model)/inputs.safetensors", "--out", out],
            ["eval", "--data", "\(eval)/data", "--version", "v1.0-evalfix", "--split", "synth_val",
             "--results", "\(eval)/results_perfect.json", "--out", out],
            ["delta", "compress", "--base", weights, "--finetuned", weights, "--ratio", "4", "--out", out],
            ["delta", "apply", "--base", weights, "--delta", delta, "--out", out],
        ]
        for command in commands {
            assertUserError(try Onboard.run(command), status: 1, contains: "\(out): is a directory; name a file to write")
        }
        XCTAssertEqual(listing(directory), ["delta.safetensors", "out"])
        XCTAssertEqual(listing(out), ["keep.txt"])
    }

    func test_fileOutputsFollowLinksAndRefuseInputsAndDevices() throws {
        let real = "\(directory)/real.safetensors", link = "\(directory)/link.safetensors"
        try AtomicFile(path: real).write(string: "old")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let run = try Onboard.run(["run", "--model", model, "--inputs", "\(model)/inputs.safetensors", "--out", link, "--threads", "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), real)
        XCTAssertEqual(try SafeTensorsFile(path: real).tensor("logits").shape, [2, 10])
        XCTAssertEqual(listing(directory), ["link.safetensors", "real.safetensors"])

        assertUserError(try Onboard.run(["run", "--model", model, "--inputs", real, "--out", real]),
                        status: 1, contains: "out is the inputs input")
        assertUserError(try Onboard.run(["run", "--model", model, "--inputs", real, "--out", "\(model)/model.safetensors"]),
                        status: 1, contains: "out lies inside the model input")
        assertUserError(try Onboard.run(["delta", "apply", "--base", real, "--delta", "\(model)/inputs.safetensors", "--out", link]),
                        status: 1, contains: "--out is the --base input")
        assertUserError(try Onboard.run(["run", "--model", model, "--inputs", real, "--out", "/dev/null"]),
                        status: 1, contains: "/dev/null: is not a regular file")
        XCTAssertEqual(try SafeTensorsFile(path: real).tensor("logits").shape, [2, 10])
    }

    func test_quantizeReplacesOnlyItsOwnOutput() throws {
        let set = try calibration(2)
        func quantize(_ out: String, _ extra: [String] = []) throws -> CommandResult {
            try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", out, "--threads", "1"] + extra)
        }
        // A project folder that happens to hold a config.json.
        let project = "\(directory)/project"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: false)
        try AtomicFile(path: "\(project)/config.json").write(string: "{}")
        try AtomicFile(path: "\(project)/notes.txt").write(string: "mine")
        assertUserError(try quantize(project), status: 1, contains: "project: holds files Onboard did not write")
        XCTAssertEqual(snapshot(project), ["config.json": Data("{}".utf8), "notes.txt": Data("mine".utf8)])
        let forced = try quantize(project, ["--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(listing(project), ["config.json", "model.safetensors", OutputManifest.name, "quant.json"])

        // Its own earlier output is replaced; the same with a file added is not.
        let out = "\(directory)/int8"
        XCTAssertEqual(try quantize(out).status, 0)
        let rerun = try quantize(out, ["--calibration-samples", "1"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertTrue(rerun.stderr.contains("calibration: 1/1"), rerun.stderr)
        try AtomicFile(path: "\(out)/notes.txt").write(string: "mine")
        assertUserError(try quantize(out), status: 1, contains: "int8: holds files Onboard did not write")
        XCTAssertEqual(FileManager.default.contents(atPath: "\(out)/notes.txt"), Data("mine".utf8))

        // Never into, onto or around the float bundle or the calibration set.
        let copy = "\(directory)/float"
        try FileManager.default.copyItem(atPath: model, toPath: copy)
        let before = snapshot(copy)
        for (out, text) in [(copy, "out is the model input"), ("\(copy)/int8", "out lies inside the model input"),
                            (directory, "out holds the model input"), (set, "out is the calibration input")] {
            assertUserError(try Onboard.run(["quantize", "--model", copy, "--calibration", set, "--out", out, "--force"]),
                            status: 1, contains: text)
        }
        XCTAssertEqual(snapshot(copy), before)

        // A link to an earlier output: the output it names is replaced, the link stays.
        let link = "\(directory)/latest"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: project)
        XCTAssertEqual(try quantize(link, ["--calibration-samples", "1"]).status, 0)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), project)
        XCTAssertEqual(listing(directory), ["calibration-2", "float", "int8", "latest", "project"])
    }

    func test_interruptedQuantizeKeepsTheOldOutputAndARerunWorks() throws {
        let set = try calibration(300)
        let out = "\(directory)/int8"
        let first = try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", out, "--calibration-samples", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = snapshot(out)
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let result = try interrupted(["quantize", "--model", model, "--calibration", set, "--out", out, "--threads", "1"],
                                         signal: signal) { $0.contains("calibration: 30/300") }
            XCTAssertEqual(result.status, status, result.stderr)
            XCTAssertTrue(result.stderr.contains("onboard: interrupted"), result.stderr)
            XCTAssertEqual(snapshot(out), before)
            XCTAssertEqual(listing(directory), ["calibration-300", "int8"])
        }
        let rerun = try Onboard.run(["quantize", "--model", model, "--calibration", set, "--out", out, "--calibration-samples", "2"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertNotEqual(snapshot(out)["quant.json"], before["quant.json"])
    }

    func test_interruptedSynthLeavesNoStagingDirectory() throws {
        let out = "\(directory)/set"
        let result = try interrupted(["synth", "--out", out, "--scenes", "40", "--samples-per-scene", "2", "--seed", "1", "--threads", "1"],
                                     signal: SIGTERM) { _ in
            listing(directory).contains { $0.hasPrefix(".set.tmp-") }
        }
        XCTAssertEqual(result.status, 143, result.stderr)
        XCTAssertEqual(listing(directory), [])
    }
}

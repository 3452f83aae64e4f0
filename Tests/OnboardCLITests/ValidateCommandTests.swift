import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `onboard validate` end to end on a tiny PETR (ViT backbone + CPFPN, random weights) and a
/// synthetic 6-camera set of 2 scenes (synth_train calibrates, synth_val is scored), and its errors.
final class ValidateCommandTests: XCTestCase {
    /// Built once for the class: the bundle, the set, and one validation run.
    struct Setup {
        let root: String
        let model: String
        let data: String
        let report: String
        let result: CommandResult
    }

    nonisolated(unsafe) static var shared: Setup?

    override class func tearDown() {
        if let root = shared?.root { try? FileManager.default.removeItem(atPath: root) }
        shared = nil
    }

    func setup() throws -> Setup {
        if let shared = Self.shared { return shared }
        let root = TestPaths.temporaryDirectory("cli-validate")
        let model = "\(root)/petr", data = "\(root)/set", report = "\(root)/report"
        try makeSixCameraPETRBundle(model)
        let synth = try Onboard.run(["synth", "--out", data, "--scenes", "2", "--samples-per-scene", "2", "--seed", "3",
                                     "--rig", "demo-6cam", "--threads", "2"])
        XCTAssertEqual(synth.status, 0, synth.stderr)
        let result = try Onboard.run(["validate", "--model", model, "--data", data, "--calibration", data, "--out", report,
                                      "--threads", "2"])
        let setup = Setup(root: root, model: model, data: data, report: report, result: result)
        Self.shared = setup
        return setup
    }

    /// A JSON object; the bare token NaN (Python's json, `onboard eval`) reads as null.
    func json(_ path: String) throws -> [String: Any] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), path)
        let text = String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: #"(?<=[:\[,\s])NaN(?=[,\]}\s])"#, with: "null", options: .regularExpression)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], path)
    }

    func leftovers(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".tmp-") }
    }

    func test_validateWritesTheReportAndBothResults() throws {
        let s = try setup()
        XCTAssertEqual(s.result.status, 0, s.result.stderr)
        for name in ["results_fp32.json", "results_int8.json", "report.json", "report.md", "index.html",
                     "model-int8/config.json", "model-int8/model.safetensors", "model-int8/quant.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(s.report)/\(name)"), name)
        }
        XCTAssertEqual(leftovers(s.root), [])
        for progress in ["validate: calibration: 2/2", "validate: FP32 detection: 2/2", "validate: INT8 detection: 2/2",
                         "validate: latency, FP32 and INT8 in turn: 4/4", "validate: per-layer diagnosis: 2/2"] {
            XCTAssertTrue(s.result.stderr.contains(progress), s.result.stderr)
        }
        XCTAssertTrue(s.result.stdout.contains("mAP"), s.result.stdout)
        XCTAssertTrue(s.result.stdout.contains("\nkernels                "), s.result.stdout)

        let report = try json("\(s.report)/report.json")
        XCTAssertEqual(report["split"] as? String, "synth_val")
        let kernels = try XCTUnwrap(report["kernels"] as? [String: Any])
        XCTAssertNotNil(kernels["active"] as? String)
        XCTAssertNotNil(kernels["int8_dot_product"] as? Bool)
        XCTAssertEqual((kernels["families"] as? [String: String])?.count, 8)
        XCTAssertEqual(report["sample_count"] as? Int, 2)
        XCTAssertEqual(report["pseudo_ground_truth"] as? Bool, false)
        for precision in ["fp32", "int8"] {
            let summary = try XCTUnwrap(report[precision] as? [String: Any], precision)
            XCTAssertEqual(Set(summary.keys), ["label_aps", "mean_dist_aps", "mean_ap", "label_tp_errors", "tp_errors", "tp_scores",
                                               "nd_score", "eval_time", "cfg", "meta"], precision)
        }
        let latency = try XCTUnwrap(report["latency_ms"] as? [String: Double])
        XCTAssertGreaterThan(latency["fp32"] ?? 0, 0)
        XCTAssertGreaterThan(latency["int8"] ?? 0, 0)
        // Both samples twice per precision, the two precisions in turn.
        XCTAssertEqual(report["latency_frames"] as? Int, 4)
        let stages = try XCTUnwrap(report["stage_latency_ms"] as? [String: [String: Double]])
        XCTAssertEqual(Set(stages["int8"]?.keys.map { $0 } ?? []),
                       ["decode", "preprocess", "backbone", "position_embedding", "decoder", "postprocess"])
        XCTAssertGreaterThan(stages["int8"]?["backbone"] ?? 0, 0)
        for key in ["peak_memory_bytes", "weights_bytes", "activation_peak_bytes"] {
            let figures = try XCTUnwrap(report[key] as? [String: Int], key)
            XCTAssertGreaterThan(figures["fp32"] ?? 0, 0, key)
            XCTAssertGreaterThan(figures["int8"] ?? 0, 0, key)
        }
        let weights = try XCTUnwrap(report["weights_bytes"] as? [String: Int])
        XCTAssertLessThan(weights["int8"] ?? .max, weights["fp32"] ?? 0)
        let layers = try XCTUnwrap(report["layers"] as? [[String: Any]])
        XCTAssertGreaterThan(layers.count, 10)
        XCTAssertTrue(layers.contains { ($0["name"] as? String)?.hasPrefix("img_backbone") == true })
        XCTAssertTrue(layers.allSatisfy { $0["accumulated_sqnr_db"] != nil && $0["isolated_sqnr_db"] != nil })
        let exclusions = try XCTUnwrap(report["suggested_exclusions"] as? [[String: Any]])
        XCTAssertEqual(exclusions.count, 3)
        XCTAssertTrue(exclusions.allSatisfy { $0["unit"] as? String == "dB" && $0["gain"] is Double })
        let gains = exclusions.compactMap { $0["gain"] as? Double }
        XCTAssertEqual(gains, gains.sorted(by: >))
        XCTAssertFalse((report["float_ops"] as? [String] ?? []).isEmpty)

        let markdown = try String(contentsOfFile: "\(s.report)/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Per-layer SQNR"), markdown)
        XCTAssertFalse(markdown.contains("pseudo ground truth"))
        let html = try String(contentsOfFile: "\(s.report)/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg"))
        for network in ["<script", "<link", "src=\"http", "href=\"http", "@import"] {
            XCTAssertFalse(html.contains(network), network)
        }
    }

    func test_resultsAndMetricsMatchDetectAndEval() throws {
        let s = try setup()
        XCTAssertEqual(s.result.status, 0, s.result.stderr)
        // FP32 and INT8 results equal those of `onboard detect` with the same split and threads.
        for (precision, model) in [("fp32", s.model), ("int8", "\(s.report)/model-int8")] {
            let out = "\(s.root)/detect_\(precision).json"
            let detect = try Onboard.run(["detect", "--model", model, "--data", s.data, "--split", "synth_val", "--precision", precision,
                                          "--out", out, "--threads", "2"])
            XCTAssertEqual(detect.status, 0, detect.stderr)
            let expected = try json(out), actual = try json("\(s.report)/results_\(precision).json")
            XCTAssertEqual(NSDictionary(dictionary: actual), NSDictionary(dictionary: expected), precision)
            XCTAssertEqual((actual["results"] as? [String: Any])?.count, 2)
        }
        // The report's FP32 metrics are `onboard eval`'s on the FP32 results.
        let metrics = "\(s.root)/metrics_fp32.json"
        let eval = try Onboard.run(["eval", "--data", s.data, "--version", "v1.0-synth", "--split", "synth_val",
                                    "--results", "\(s.report)/results_fp32.json", "--out", metrics])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let expected = try json(metrics)
        let report = try json("\(s.report)/report.json")
        let fp32 = try XCTUnwrap(report["fp32"] as? [String: Any])
        XCTAssertEqual(fp32["mean_ap"] as? Double, expected["mean_ap"] as? Double)
        XCTAssertEqual(fp32["nd_score"] as? Double, expected["nd_score"] as? Double)
        XCTAssertEqual(NSDictionary(dictionary: fp32["mean_dist_aps"] as? [String: Any] ?? [:]),
                       NSDictionary(dictionary: expected["mean_dist_aps"] as? [String: Any] ?? [:]))
    }

    /// A set without annotations: INT8 is scored against FP32's detections; a calibration set of files.
    func test_unannotatedSetUsesPseudoGroundTruth() throws {
        let s = try setup()
        let data = "\(s.root)/unlabelled"
        try FileManager.default.copyItem(atPath: s.data, toPath: data)
        for table in ["sample_annotation", "instance"] {
            try Data("[]".utf8).write(to: URL(fileURLWithPath: "\(data)/v1.0-synth/\(table).json"))
        }
        let calibration = try calibrationFiles("\(s.root)/calibration-files", count: 2)
        let report = "\(s.root)/report-unlabelled"
        let result = try Onboard.run(["validate", "--model", s.model, "--data", data, "--split", "synth_val", "--calibration", calibration,
                                      "--diagnosis-samples", "1", "--out", report, "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("pseudo ground truth"), result.stdout)
        let json = try json("\(report)/report.json")
        XCTAssertEqual(json["pseudo_ground_truth"] as? Bool, true)
        let fp32 = try XCTUnwrap(json["fp32"] as? [String: Any]), int8 = try XCTUnwrap(json["int8"] as? [String: Any])
        XCTAssertEqual((fp32["meta"] as? [String: Any])?["pseudo_ground_truth"] as? Bool, true)
        XCTAssertNotNil((fp32["meta"] as? [String: Any])?["reference"] as? String)
        XCTAssertNotNil((int8["meta"] as? [String: Any])?["agreement"] as? String)
        // FP32 against itself finds every pseudo box: AP 1 for each class that has one.
        let pseudoClasses = try pseudoBoxClasses("\(report)/results_fp32.json")
        XCTAssertFalse(pseudoClasses.isEmpty, "the random model has no box with score >= 0.3")
        let aps = try XCTUnwrap(fp32["mean_dist_aps"] as? [String: Double])
        for name in pseudoClasses { XCTAssertEqual(aps[name] ?? 0, 1, accuracy: 1e-9, name) }
        let int8AP = try XCTUnwrap(int8["mean_ap"] as? Double)
        XCTAssertTrue((0...1).contains(int8AP))
        let markdown = try String(contentsOfFile: "\(report)/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("pseudo ground truth"), markdown)
        XCTAssertTrue(try String(contentsOfFile: "\(report)/index.html", encoding: .utf8).contains("Pseudo ground truth"))
        XCTAssertEqual((json["layers"] as? [Any])?.isEmpty, false)
    }

    /// Classes of the FP32 boxes with score >= 0.3 (within the class range the metric keeps).
    func pseudoBoxClasses(_ results: String) throws -> Set<String> {
        let boxes = (try json(results)["results"] as? [String: [[String: Any]]] ?? [:]).values.flatMap { $0 }
        return Set(boxes.filter { ($0["detection_score"] as? Double ?? 0) >= 0.3 }.compactMap { $0["detection_name"] as? String })
    }

    /// `count` input files with random images and the tiny rig's lidar2img (6 cameras: 2 repeated).
    func calibrationFiles(_ directory: String, count: Int, poison: Bool = false) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let two = try SafeTensorsFile(path: TestPaths.fixture("petr/vit_cpfpn_images/inputs.safetensors")).tensor("lidar2img").floats()
        let lidar2img = try Tensor(shape: [6, 4, 4], values: two + two + two)
        var random = TestRandom(seed: 9)
        for i in 0..<count {
            let images = random.gaussian([6, 3, 32, 64])
            if poison && i == count - 1 { images.floatPointer[7] = .nan }
            try SafeTensorsWriter.write([("images", images), ("lidar2img", lidar2img)], to: "\(directory)/\(i).safetensors")
        }
        return directory
    }

    /// A manifest naming a synthetic recorded set: rendered once into the cache, then calibrated on.
    func test_syntheticCalibrationManifest() throws {
        let s = try setup()
        let manifest = "\(s.root)/synth-calibration.json", cache = "\(s.root)/cache", report = "\(s.root)/report-manifest"
        try Data(#"{"synth": {"rig": "demo-6cam", "seed": 5, "scenes": 2, "samples_per_scene": 1, "version": "v1.0-synth"}, "split": "synth_train"}"#.utf8)
            .write(to: URL(fileURLWithPath: manifest))
        let result = try Onboard.run(["validate", "--model", s.model, "--data", s.data, "--calibration", manifest, "--out", report,
                                      "--threads", "2", "--diagnosis-samples", "1"], environment: ["ONBOARD_CACHE": cache])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("rendering"), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(cache)/synth-demo-6cam-s5-2x1/v1.0-synth/sample.json"))
        XCTAssertNotNil(try json("\(report)/report.json")["int8"] as? [String: Any])
        try Data(#"{"synth": {"rig": "demo-6cam"}}"#.utf8).write(to: URL(fileURLWithPath: manifest))
        assertUserError(try Onboard.run(["validate", "--model", s.model, "--data", s.data, "--calibration", manifest, "--out", report]),
                        status: 1, contains: "synth-calibration.json: synth: needs rig, seed, scenes")
    }

    func test_badInputsAreOneLineErrorsAndWriteNothing() throws {
        let s = try setup()
        let work = "\(s.root)/errors"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let out = "\(work)/report"
        func validate(model: String? = nil, calibration: String? = nil, extra: [String] = []) throws -> CommandResult {
            try Onboard.run(["validate", "--model", model ?? s.model, "--data", s.data, "--calibration", calibration ?? s.data,
                             "--out", out, "--threads", "2"] + extra)
        }
        assertUserError(try validate(calibration: "\(work)/nope"), status: 1, contains: "nope: no such calibration set")
        let empty = "\(work)/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertUserError(try validate(calibration: empty), status: 1, contains: "the calibration set is empty")
        let poisoned = try calibrationFiles("\(work)/poisoned", count: 2, poison: true)
        assertUserError(try validate(calibration: poisoned), status: 1, contains: "1.safetensors: images: element 7 is not finite",
                        afterProgress: true)
        let recipe = "\(work)/recipe.json"
        try Data(#"{"observer": "minmax", "keep_float": ["no_such_op"]}"#.utf8).write(to: URL(fileURLWithPath: recipe))
        assertUserError(try validate(extra: ["--recipe", recipe]), status: 1, contains: "keep_float: the model has no op named 'no_such_op'")
        assertUserError(try validate(model: TestPaths.fixture("vit/cls_token")), status: 1, contains: "not a PETR bundle")
        assertUserError(try validate(model: TestPaths.fixture("petr/tiny_lid")), status: 1, contains: "has no backbone")
        assertUserError(try validate(model: "\(s.report)/model-int8"), status: 1, contains: "already quantized")
        assertUserError(try validate(extra: ["--split", "nosuch"]), status: 1, contains: "nosuch: no such split")
        assertUserError(try validate(extra: ["--calibration-samples", "0"]), status: 2, contains: "--calibration-samples must be >= 1")
        assertUserError(try Onboard.run(["validate", "--model", s.model, "--data", s.data, "--calibration", s.data, "--out", "\(s.data)/report"]),
                        status: 1, contains: "out lies inside the data input")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // An existing directory that is not a report is never replaced.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: "\(out)/notes.txt"))
        assertUserError(try validate(), status: 1, contains: "refusing to replace it")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["notes.txt"])
        XCTAssertEqual(leftovers(work), [])
    }

    /// detect and preprocess with --out onto a directory (the other commands: OutputSafetyTests).
    func test_detectAndPreprocessRefuseADirectoryAsTheirOutputFile() throws {
        let s = try setup()
        let out = "\(s.root)/out-directory"
        try FileManager.default.createDirectory(atPath: "\(out)/inner", withIntermediateDirectories: true)
        let image = try XCTUnwrap(FileManager.default.subpaths(atPath: s.data)?.sorted().first { $0.hasSuffix(".jpg") })
        assertUserError(try Onboard.run(["detect", "--model", s.model, "--data", s.data, "--out", out]),
                        status: 1, contains: "\(out): is a directory; name a file to write")
        assertUserError(try Onboard.run(["preprocess", "--images", "\(s.data)/\(image)", "--out", out]),
                        status: 1, contains: "\(out): is a directory; name a file to write")
        assertUserError(try Onboard.run(["detect", "--model", s.model, "--data", s.data, "--out", "\(s.data)/results.json"]),
                        status: 1, contains: "out lies inside the data input")
        XCTAssertEqual(listing(out), ["inner"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(s.data)/results.json"))
    }

    /// SIGINT while the report is being staged: the earlier report stays whole and nothing is left beside it.
    func test_interruptedRunKeepsTheEarlierReport() throws {
        let s = try setup()
        let work = "\(s.root)/interrupt"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let out = "\(work)/report"
        try FileManager.default.copyItem(atPath: s.report, toPath: out)
        let before = snapshot(out)
        XCTAssertNotNil(before["model-int8/model.safetensors"])
        let arguments = ["validate", "--model", s.model, "--data", s.data, "--calibration", s.data, "--out", out, "--threads", "2",
                         "--diagnosis-samples", "0", "--bootstrap", "0"]
        let result = try interrupted(arguments, signal: SIGINT) { _ in
            // Once the quantized bundle is staged.
            listing(work).contains { $0.hasPrefix(".report.tmp-") && listing("\(work)/\($0)").contains("model-int8") }
        }
        XCTAssertEqual(result.status, 130, result.stderr)
        XCTAssertEqual(listing(work), ["report"])
        XCTAssertEqual(snapshot(out), before)
        let rerun = try Onboard.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(listing(work), ["report"])
        XCTAssertEqual(listing(out), listing(s.report))
    }
}

import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// The executor is a parameter of PETRModel: the same head runs on the INT8 executor after
/// calibration (default per-tensor recipe), and its outputs stay close to FP32.
final class PETRInt8Tests: XCTestCase {
    func test_headRunsOnTheInt8Executor() throws {
        let directory = TestPaths.fixture("petr/tiny_lid")
        let bundle = try ModelBundle(directory: directory)
        guard let config = bundle.model as? PETRConfig else { return XCTFail("not PETR") }
        let inputs = try SafeTensorsFile(path: "\(directory)/inputs.safetensors").allTensors()
        let fp32 = try PETRModel(bundle: bundle, input: .features(height: 4, width: 8), threads: 2)
        guard let lidar2img = inputs["lidar2img"] else { return XCTFail("no lidar2img") }
        let coords = try PETRGeometry.coords3d(head: config.head, imageSize: config.imageSize, featureSize: [4, 8],
                                               lidar2img: lidar2img, source: "inputs")
        var random = TestRandom(seed: 21)
        let samples = (0..<6).map { _ in ["features": random.gaussian([2, 16, 4, 8]), "coords3d": coords] }
        let plan = try Calibrator.calibrate(graph: fp32.built.graph, recipe: QuantizationRecipe(), count: samples.count,
                                            threads: 2, sample: { samples[$0] })
        let int8 = try PETRModel(bundle: bundle, input: .features(height: 4, width: 8), threads: 2) { graph in
            try Int8Executor(graph: graph, plan: plan, threads: 2)
        }
        XCTAssertTrue(int8.runner is Int8Executor)
        let a = try fp32.run(inputs, source: "inputs"), b = try int8.run(inputs, source: "inputs")
        for (name, x, y) in [("all_cls_scores", a.allClassScores, b.allClassScores), ("pos_embed", a.posEmbed, b.posEmbed)] {
            let reference = x.floats(), test = y.floats()
            let noise = zip(reference, test).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            let signal = reference.reduce(0.0) { $0 + Double($1 * $1) }
            let sqnr = 10 * log10(signal / max(noise, 1e-30))
            print("PETR tiny_lid int8 vs fp32: \(name) SQNR \(String(format: "%.1f", sqnr)) dB")
            XCTAssertGreaterThan(sqnr, 15, name)
        }
        XCTAssertEqual(b.detections.count, config.head.maxNum)
    }
}

/// The head's build-time constants (`pos3d_adapt`, `query_pos`) do not depend on the kernel path:
/// an INT8 executor folds `query_pos` into biases and codes, where a last-bit difference (the FP32
/// GEMM's fused multiply-adds on AVX2) once moved a code and then boxes between `ONBOARD_ISA` levels.
/// On a CPU with only the scalar path the loop has one level and compares it with itself.
final class PETRConstantsTests: XCTestCase {
    override func tearDown() { KernelISA.reset() }

    func test_buildTimeConstantsAreTheSameOnEveryKernelPath() throws {
        let bundle = try ModelBundle(directory: TestPaths.fixture("petr/tiny_lid"))
        var constants: [String: [[Float]]] = [:]
        for level in KernelISA.available {
            try KernelISA.applyEnvironment(["ONBOARD_ISA": level])
            let graph = try PETRModel(bundle: bundle, input: .features(height: 4, width: 8), threads: 2).built.graph
            for name in ["pts_bbox_head.pos3d_adapt", "pts_bbox_head.query_pos"] {
                let id = try XCTUnwrap(graph.value(named: name), name)
                constants[name, default: []].append(try XCTUnwrap(graph.floatConstant(id), name).floats())
            }
        }
        for (name, values) in constants {
            XCTAssertFalse(values[0].isEmpty, name)
            for other in values.dropFirst() { XCTAssertEqual(other, values[0], name) }
        }
    }
}

import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport

/// The tiny feature-input PETR fixture, its recorded inputs, and seeded random feature samples
/// (with the recorded sample's position input) that the Q-PETR recipe is calibrated on.
struct TinyPETRFixture {
    let bundle: ModelBundle
    let input = PETRInput.features(height: 4, width: 8)
    let inputs: [String: Tensor]
    let fp32: PETRModel
    let samples: [[String: Tensor]]
    let plan: QuantizationPlan

    init(seed: UInt64) throws {
        let directory = TestPaths.fixture("petr/tiny_lid")
        bundle = try ModelBundle(directory: directory)
        inputs = try SafeTensorsFile(path: "\(directory)/inputs.safetensors").allTensors()
        fp32 = try PETRModel(bundle: bundle, input: input, threads: 2)
        let coords = try fp32.run(inputs, source: "inputs").coords3d
        var random = TestRandom(seed: seed)
        let samples = (0..<4).map { _ in ["features": random.gaussian([2, 16, 4, 8]), "coords3d": coords] }
        self.samples = samples
        let recipe = try QuantizationRecipe.load(path: (TestPaths.root as NSString).appendingPathComponent("Configs/recipes/qpetr-int8.json"))
        plan = try Calibrator.calibrate(graph: fp32.built.graph, recipe: recipe, count: samples.count, threads: 2) { samples[$0] }
    }
}

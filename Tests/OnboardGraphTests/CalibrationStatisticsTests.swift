import Foundation
import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// A calibration observed in blocks (as shards on several machines would) and merged gives the
/// plan of one run, byte for byte.
final class CalibrationStatisticsTests: XCTestCase {
    static let sampleCount = 7

    /// x [3, 10, 16] -> linear -> relu -> q·kᵀ (alpha) -> softmax -> ·x -> permute.
    func attentionGraph() throws -> Graph {
        var random = TestRandom(seed: 34)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [3, 10, 16])
        let h = try g.node(.linear, [x, try g.constant("proj.weight", random.gaussian([16, 16], scale: 0.4)),
                                     try g.constant("proj.bias", random.gaussian([16], scale: 0.2))], name: "proj")
        let r = try g.node(.relu, [h], name: "relu")
        let s = try g.node(.matmul(transposeB: true, alpha: 0.25), [r, h], name: "scores")
        let p = try g.node(.softmax, [s], name: "probs")
        let c = try g.node(.matmul(transposeB: false), [p, x], name: "context")
        g.markOutput(try g.node(.permute([1, 0, 2]), [c], name: "out"))
        return try g.build()
    }

    let samples: [[String: Tensor]] = {
        var random = TestRandom(seed: 35)
        return (0..<CalibrationStatisticsTests.sampleCount).map { i in ["x": random.gaussian([3, 10, 16], scale: 0.5 + Float(i) * 0.3)] }
    }()

    func recipes() -> [QuantizationRecipe] {
        var recipes = [ObserverKind.minmax, .percentile, .mse, .kl, .klRelu, .quantile].map { kind -> QuantizationRecipe in
            var recipe = QuantizationRecipe()
            recipe.observer = kind
            return recipe
        }
        var qans = QuantizationRecipe()
        qans.observer = .percentile
        qans.percentile = 99.9
        qans.symmetricActivations = true
        qans.softmaxInput = .stabilized
        qans.softmaxClip = 12
        qans.softmaxOutput = .deferred
        recipes.append(qans)
        return recipes
    }

    func encoded<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(value)
    }

    /// Each block observed apart, its statistics sent through JSON, then merged in block order.
    func mergedStatistics(_ graph: Graph, _ recipe: QuantizationRecipe, blocks: [Range<Int>], threads: [Int]) throws -> CalibrationStatistics {
        var merged: CalibrationStatistics?
        for (block, threadCount) in zip(blocks, threads) {
            let part = try Calibrator.observe(graph: graph, recipe: recipe, samples: block, threads: threadCount) { self.samples[$0] }
            let received = try JSONDecoder().decode(CalibrationStatistics.self, from: try encoded(part))
            XCTAssertEqual(received, part)
            if merged == nil { merged = received } else { try merged?.merge(received) }
        }
        return try XCTUnwrap(merged)
    }

    func test_mergedBlocksGiveTheSinglePlanByteForByte() throws {
        let graph = try attentionGraph()
        let splits: [[Range<Int>]] = [[0..<3, 3..<7], [0..<1, 1..<5, 5..<7], [0..<6, 6..<7], [0..<2, 2..<2, 2..<7]]
        for recipe in recipes() {
            let single = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { self.samples[$0] }
            let whole = try Calibrator.observe(graph: graph, recipe: recipe, samples: 0..<samples.count, threads: 1) { self.samples[$0] }
            XCTAssertEqual(try encoded(Calibrator.plan(graph: graph, recipe: recipe, statistics: whole)), try encoded(single))
            for blocks in splits {
                let merged = try mergedStatistics(graph, recipe, blocks: blocks, threads: blocks.indices.map { 1 + $0 % 2 })
                XCTAssertEqual(try encoded(merged), try encoded(whole), "\(recipe.observer) \(blocks)")
                let plan = try Calibrator.plan(graph: graph, recipe: recipe, statistics: merged)
                XCTAssertEqual(try encoded(plan), try encoded(single), "\(recipe.observer) \(blocks)")
                XCTAssertEqual(plan.calibrationSamples, samples.count)
            }
        }
    }

    func test_theStatisticsHoldOneStatePerObservedValue() throws {
        let graph = try attentionGraph()
        let recipe = recipes().last ?? QuantizationRecipe()
        let statistics = try Calibrator.observe(graph: graph, recipe: recipe, samples: 2..<5, threads: 2) { self.samples[$0] }
        // "out" reuses its input's parameters; the deferred "probs" has fixed ones.
        XCTAssertEqual(Set(statistics.observers.keys), ["x", "proj", "relu", "scores", "context"])
        XCTAssertEqual(statistics.samples, 2..<5)
        XCTAssertEqual(statistics.observers["x"]?.histogram?.counts.reduce(0, +), Double(3 * 3 * 10 * 16))
        // The stabilized logits are observed after subtracting each row's max.
        XCTAssertEqual(statistics.observers["scores"]?.max, 0)
        let empty = try Calibrator.observe(graph: graph, recipe: recipe, samples: 4..<4, threads: 2) { _ in [:] }
        XCTAssertNil(empty.observers["x"]?.min)
        XCTAssertThrowsError(try Calibrator.plan(graph: graph, recipe: recipe, statistics: empty)) { XCTAssertTrue("\($0)".contains("empty")) }
    }

    func test_emaCalibratesInOneProcessButItsBlocksDoNotMerge() throws {
        let graph = try attentionGraph()
        var recipe = QuantizationRecipe()
        recipe.observer = .ema
        let single = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 2) { self.samples[$0] }
        let whole = try Calibrator.observe(graph: graph, recipe: recipe, samples: 0..<samples.count, threads: 2) { self.samples[$0] }
        XCTAssertEqual(try encoded(Calibrator.plan(graph: graph, recipe: recipe, statistics: whole)), try encoded(single))
        XCTAssertThrowsError(try mergedStatistics(graph, recipe, blocks: [0..<3, 3..<7], threads: [2, 2])) { error in
            XCTAssertTrue(error is OnboardError)
            XCTAssertTrue("\(error)".contains("order of the batches") && "\(error)".contains("minmax, percentile, mse, kl, kl_relu, quantile"), "\(error)")
        }
        // An empty block changes nothing, so it merges.
        XCTAssertEqual(try mergedStatistics(graph, recipe, blocks: [0..<7, 7..<7], threads: [2, 2]), whole)
    }

    func test_mismatchedStatisticsAreErrorsNamingTheField() throws {
        let graph = try attentionGraph()
        var recipe = QuantizationRecipe()
        recipe.observer = .percentile
        func observe(_ block: Range<Int>, _ recipe: QuantizationRecipe, graph: Graph) throws -> CalibrationStatistics {
            try Calibrator.observe(graph: graph, recipe: recipe, samples: block, threads: 2) { self.samples[$0] }
        }
        let first = try observe(0..<3, recipe, graph: graph)
        func assertMergeError(_ other: CalibrationStatistics, _ parts: [String], line: UInt = #line) {
            var merged = first
            XCTAssertThrowsError(try merged.merge(other), line: line) { error in
                XCTAssertTrue(error is OnboardError, line: line)
                for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", line: line) }
            }
            XCTAssertEqual(merged, first, "a refused merge changes nothing", line: line)
        }
        var kl = recipe
        kl.observer = .kl
        assertMergeError(try observe(3..<7, kl, graph: graph), ["'recipe.observer'"])
        var symmetric = recipe
        symmetric.symmetricActivations = true
        assertMergeError(try observe(3..<7, symmetric, graph: graph), ["'recipe.activations'"])
        assertMergeError(try observe(4..<7, recipe, graph: graph), ["'samples'", "3"])
        assertMergeError(try observe(0..<3, recipe, graph: graph), ["'samples'"])
        var renamed = try observe(3..<7, recipe, graph: graph)
        renamed.observers["ghost"] = renamed.observers.removeValue(forKey: "proj")
        assertMergeError(renamed, ["'observers.ghost'"])
        var coarse = try observe(3..<7, recipe, graph: graph)
        coarse.observers["proj"]?.histogram?.bins = 1024
        assertMergeError(coarse, ["proj", "'histogram.bins'"])
        var future = try observe(3..<7, recipe, graph: graph)
        future.version = 2
        assertMergeError(future, ["'format'"])
        XCTAssertThrowsError(try Calibrator.plan(graph: graph, recipe: kl, statistics: first)) {
            XCTAssertTrue("\($0)".contains("'recipe.observer'"), "\($0)")
        }
    }

    func test_statisticsFilesRoundTripAndBadOnesNameTheFile() throws {
        let graph = try attentionGraph()
        var recipe = QuantizationRecipe()
        recipe.observer = .kl
        let statistics = try Calibrator.observe(graph: graph, recipe: recipe, samples: 0..<2, threads: 2) { self.samples[$0] }
        let directory = TestPaths.temporaryDirectory("calibration-statistics")
        let path = (directory as NSString).appendingPathComponent("part-0.json")
        try statistics.save(path: path)
        XCTAssertEqual(try CalibrationStatistics.load(path: path), statistics)
        var other = statistics
        other.format = "onboard-quant"
        try other.save(path: path)
        XCTAssertThrowsError(try CalibrationStatistics.load(path: path)) { XCTAssertTrue("\($0)".contains(path) && "\($0)".contains("format"), "\($0)") }
    }
}

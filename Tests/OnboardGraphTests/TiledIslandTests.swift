import OnboardCore
@testable import OnboardGraph
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Float islands that split into tiles (`TiledIsland`) compute exactly what the plain islands
/// compute on whole tensors, with scratch for a few tiles per thread instead of f32 copies.
final class TiledIslandTests: XCTestCase {
    static let (batch, length, width, channels, state) = (3, 40, 16, 144, 4)

    /// A Mamba branch: RMSNorm -> linears for u (then conv1d and SiLU), delta, z and (B, C) -> the selective scan of a
    /// channel count that leaves a partial block (144 = 4.5 blocks) -> SiLU -> residual add -> a linear.
    /// `bothDirections`: a second scan the other way, with a delta of its own, reads the same u, B, C
    /// and z (as a Vision Mamba's backward branch reads z), and the two are added before the SiLU.
    func mambaBranch(reverse: Bool, channels: Int = channels, bothDirections: Bool = false) throws -> Graph {
        var random = TestRandom(seed: 21)
        let (b, l, d, e, n) = (Self.batch, Self.length, Self.width, channels, Self.state)
        let g = GraphBuilder()
        let x = try g.input("x", shape: [b, l, d])
        let norm = try g.node(.rmsNorm(epsilon: 1e-5), [x, try g.constant("norm.weight", random.gaussian([d], scale: 0.5))], name: "norm")
        func linear(_ name: String, _ input: ValueID, out: Int, rows: Int) throws -> ValueID {
            try g.node(.linear, [input, try g.constant("\(name).weight", random.gaussian([out, rows], scale: 0.4))], name: name)
        }
        let conv = try g.node(.causalConv1d(reverse: reverse), [
            try linear("u", norm, out: e, rows: d), try g.constant("conv.weight", random.gaussian([e, 1, 4], scale: 0.5)),
            try g.constant("conv.bias", random.gaussian([e], scale: 0.2)),
        ], name: "conv")
        let u = try g.node(.silu, [conv], name: "conv.act"), delta = try linear("delta", norm, out: e, rows: d)
        let z = try linear("z", norm, out: e, rows: d), bc = try linear("bc", norm, out: 2 * n, rows: d)
        let bInput = try g.node(.slice(axis: 2, start: 0, end: n, step: 1), [bc], name: "B")
        let cInput = try g.node(.slice(axis: 2, start: n, end: 2 * n, step: 1), [bc], name: "C")
        let a = try g.constant("A", Tensor(shape: [e, n], values: (0..<e * n).map { -Float(1 + $0 % 7) * 0.3 }))
        let scan = try g.node(.selectiveScan(reverse: reverse), [
            u, delta, a, bInput, cInput, try g.constant("D", random.gaussian([e], scale: 0.5)),
            try g.constant("delta_bias", random.gaussian([e], scale: 0.3)), z,
        ], name: "scan")
        var mixed = scan
        if bothDirections {
            let backward = try g.node(.selectiveScan(reverse: !reverse), [
                u, try linear("delta_b", norm, out: e, rows: d), a, bInput, cInput, try g.constant("D_b", random.gaussian([e], scale: 0.5)),
                try g.constant("delta_bias_b", random.gaussian([e], scale: 0.3)), z,
            ], name: "scan_b")
            mixed = try g.node(.add, [scan, backward], name: "bidirectional")
        }
        let activated = try g.node(.silu, [mixed], name: "act")
        let projected = try linear("out", activated, out: d, rows: e)
        g.markOutput(try g.node(.add, [x, projected], name: "residual"))
        return try g.build()
    }

    func executor(_ graph: Graph, recipe: QuantizationRecipe, threads: Int, fuses: Bool = true) throws -> Int8Executor {
        var random = TestRandom(seed: 8)
        let samples = (0..<4).map { _ in ["x": random.gaussian([Self.batch, Self.length, Self.width])] }
        let plan = try Calibrator.calibrate(graph: graph, recipe: recipe, count: samples.count, threads: 1) { samples[$0] }
        return try Int8Executor(graph: graph, plan: plan, threads: threads, splitsHeadsInPlace: fuses)
    }

    func test_tiledIslandsGiveThePlainIslandsOutputWithLessScratch() throws {
        for reverse in [false, true] {
            for inputs in [QuantizationRecipe.FloatIslandInputs.quantized, .float] {
                var recipe = QuantizationRecipe()
                recipe.floatIslandInputs = inputs
                let graph = try mambaBranch(reverse: reverse)
                let plain = try executor(graph, recipe: recipe, threads: 1, fuses: false)
                plain.codePathsEnabled = false
                let tiled = try executor(graph, recipe: recipe, threads: 2)
                XCTAssertLessThan(tiled.scratchLayout.byteCount, try XCTUnwrap(plain.plainScratch).byteCount, "reverse \(reverse), \(inputs)")
                var random = TestRandom(seed: 9)
                let x = random.gaussian([Self.batch, Self.length, Self.width])
                let expected = try XCTUnwrap(try plain.run(["x": x])["residual"]).floats()
                let got = try XCTUnwrap(try tiled.run(["x": x])["residual"]).floats()
                XCTAssertEqual(got.count, Self.batch * Self.length * Self.width)
                XCTAssertTrue(got == expected, "reverse \(reverse), \(inputs): \(zip(got, expected).filter { $0 != $1 }.count) elements differ")
                // Another input gives another output: the comparison can fail.
                let other = try XCTUnwrap(try tiled.run(["x": random.gaussian([Self.batch, Self.length, Self.width])])["residual"]).floats()
                XCTAssertFalse(other == expected)
            }
        }
    }

    /// With the integer ops' outputs in f32 for the float islands, the scan computes delta and z
    /// from their Linears a block of channels at a time, and the SiLU its input from the conv1d a
    /// block of rows at a time (`TileProducer`): the output of the graph that stores them, bit for
    /// bit, with their bytes gone from the arena. 140 channels end in half a weight panel.
    func test_islandsComputeTheTilesThatIntegerOpsMakeForThemAlone() throws {
        var recipe = QuantizationRecipe()
        recipe.floatIslandInputs = .float
        for channels in [144, 140] {
            for reverse in [false, true] {
                let context = "\(channels) channels, reverse \(reverse)"
                let graph = try mambaBranch(reverse: reverse, channels: channels)
                let index = Dictionary(uniqueKeysWithValues: graph.nodes.enumerated().map { ($1.name, $0) })
                guard let scanIndex = index["scan"], let deltaIndex = index["delta"], let zIndex = index["z"],
                      let actIndex = index["conv.act"], let convIndex = index["conv"] else { return XCTFail("no scan, delta, z, conv or SiLU") }
                let (scan, act) = (graph.nodes[scanIndex], graph.nodes[actIndex])
                let stored = try executor(graph, recipe: recipe, threads: 2, fuses: false)
                let projected = try executor(graph, recipe: recipe, threads: 2)
                XCTAssertTrue(stored.tileProducers(of: scan).isEmpty, context)
                XCTAssertEqual(projected.tileProducers(of: scan).map { [$0.operand, $0.node] }, [[1, deltaIndex], [7, zIndex]], context)
                XCTAssertTrue(stored.tileProducers(of: act).isEmpty, context)
                XCTAssertEqual(projected.tileProducers(of: act).map { [$0.operand, $0.node] }, [[0, convIndex]], context)
                XCTAssertTrue(["delta", "z", "conv"].allSatisfy(projected.integerOps.contains), context)
                // Values count their bytes, scratch its aligned bytes. At the scan: delta's and z's f32 bytes
                // gone; a tile of each per thread, and the Linears' codes input, added.
                let f32Bytes = Self.batch * Self.length * channels * 4, inputBytes = Self.batch * Self.length * Self.width
                let tile = MemoryPlanner.align(Self.length * SelectiveScanOp.channelBlock * 4)
                XCTAssertEqual(projected.memoryPlan.liveBytesPerNode[scanIndex], stored.memoryPlan.liveBytesPerNode[scanIndex]
                               - 2 * f32Bytes + 2 * 2 * tile + inputBytes, context)
                // At the SiLU: the conv1d's f32 output gone; its codes input kept, and a row tile per thread added.
                let rowTile = MemoryPlanner.align(TiledIsland.rowTileBytes / (channels * 4) * channels * 4)
                XCTAssertEqual(projected.memoryPlan.liveBytesPerNode[actIndex], stored.memoryPlan.liveBytesPerNode[actIndex]
                               - f32Bytes + f32Bytes / 4 + 2 * rowTile, context)
                try assertSameOutputs(stored, projected, context)
            }
        }
    }

    /// z read by the scans of both directions: each computes its tiles, and z is stored nowhere.
    func test_bothDirectionsComputeTheGateTheyShare() throws {
        var recipe = QuantizationRecipe()
        recipe.floatIslandInputs = .float
        for reverse in [false, true] {
            let context = "reverse \(reverse)"
            let graph = try mambaBranch(reverse: reverse, channels: 140, bothDirections: true)
            let index = Dictionary(uniqueKeysWithValues: graph.nodes.enumerated().map { ($1.name, $0) })
            guard let forward = index["scan"], let backward = index["scan_b"], let zIndex = index["z"], let deltaB = index["delta_b"]
            else { return XCTFail("no scans, z or delta_b") }
            let stored = try executor(graph, recipe: recipe, threads: 2, fuses: false)
            let projected = try executor(graph, recipe: recipe, threads: 2)
            XCTAssertEqual(projected.tileProducers(of: graph.nodes[backward]).map { [$0.operand, $0.node] }, [[1, deltaB], [7, zIndex]], context)
            XCTAssertEqual(projected.tileProducers(of: graph.nodes[forward]).map(\.operand), [1, 7], context)
            // At the backward scan: z and its delta gone, their tiles added, and the Linears' input kept
            // (stored, it ends at delta_b's Linear; at the forward scan it is live either way).
            let f32Bytes = Self.batch * Self.length * 140 * 4, inputBytes = Self.batch * Self.length * Self.width
            let tile = MemoryPlanner.align(Self.length * SelectiveScanOp.channelBlock * 4)
            XCTAssertEqual(projected.memoryPlan.liveBytesPerNode[backward], stored.memoryPlan.liveBytesPerNode[backward]
                           - 2 * f32Bytes + 2 * 2 * tile + inputBytes, context)
            XCTAssertEqual(projected.memoryPlan.liveBytesPerNode[forward], stored.memoryPlan.liveBytesPerNode[forward]
                           - 2 * f32Bytes + 2 * 2 * tile, context)
            try assertSameOutputs(stored, projected, context)
        }
    }

    /// The same output, bit for bit, also with the code paths off (the islands still compute their tiles).
    private func assertSameOutputs(_ stored: Int8Executor, _ projected: Int8Executor, _ context: String) throws {
        var random = TestRandom(seed: 9)
        let x = random.gaussian([Self.batch, Self.length, Self.width])
        let expected = try XCTUnwrap(try stored.run(["x": x])["residual"]).floats()
        XCTAssertEqual(try XCTUnwrap(try projected.run(["x": x])["residual"]).floats(), expected, context)
        projected.codePathsEnabled = false
        XCTAssertEqual(try XCTUnwrap(try projected.run(["x": x])["residual"]).floats(), expected, context)
        projected.codePathsEnabled = true
    }

    func test_aScanOnCodesNeedsTilesPerThreadNotWholeTensors() throws {
        let graph = try mambaBranch(reverse: false)
        let executor = try executor(graph, recipe: QuantizationRecipe(), threads: 2)
        guard let scan = graph.nodes.first(where: { $0.name == "scan" }) else { return XCTFail("no scan node") }
        let bytes = FloatIsland.scratchBytes(scan, graph: graph, threads: 2, tiled: true, storedAsCodes: executor.storesCodes)
        let tile = MemoryPlanner.align(Self.length * SelectiveScanOp.channelBlock * 4)
        let wholeBC = 2 * MemoryPlanner.align(Self.batch * Self.length * Self.state * 4)
        // u, delta, z and y stored as codes, plus the staging tile, per thread; B and C whole once.
        XCTAssertEqual(bytes, 2 * 5 * tile + wholeBC)
        XCTAssertLessThan(bytes, 4 * MemoryPlanner.align(Self.batch * Self.length * Self.channels * 4) / 3)
        XCTAssertEqual(FloatIsland.scratchBytes(scan, graph: graph, threads: 2, tiled: false, storedAsCodes: executor.storesCodes),
                       4 * MemoryPlanner.align(Self.batch * Self.length * Self.channels * 4) + wholeBC)
    }
}

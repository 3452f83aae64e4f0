import OnboardCore
@testable import OnboardGraph
import OnboardTestSupport
import XCTest

/// The traits each op states in its `OpDefinition` agree with each other and with what the
/// executors, the calibrator and consumer clipping do with them.
final class OpTraitsTests: XCTestCase {
    /// One op per case.
    static let ops: [Op] = [
        .linear, .matmul(transposeB: false, alpha: 0.5), .conv2d(Conv2dParams(padding: 1)), .layerNorm(epsilon: 1e-5),
        .gelu(approximate: false), .softmax, .add, .sub, .mul, .div, .relu, .sigmoid, .silu, .erf, .clip(min: -1, max: 2), .scale(0.5),
        .reshape([3, 4]), .permute([2, 0, 1]), .concat(axis: 1), .slice(axis: 1, start: 1, end: 6, step: 2), .gather,
        .reduceMean(axis: 1, keepDims: false), .maxPool2d(Pool2dParams(kernel: 2)), .upsampleNearest(height: 6, width: 5),
        .hardSigmoid, .deformConv2d(Conv2dParams(padding: 1), deformGroups: 1), .rmsNorm(epsilon: 1e-5),
        .causalConv1d(reverse: true), .selectiveScan(reverse: true), .hadamard,
    ]

    struct Sample {
        let shape: [Int]
        var dtype: DType = .f32
        var constant = false
    }

    /// Inputs the op's shape rule accepts: activations first, weights as constants. No default, so
    /// a new `Op` case does not compile until it has a sample here (and a line in `ops`).
    static func operands(_ op: Op) -> [Sample] {
        switch op {
        case .linear: return [Sample(shape: [2, 4]), Sample(shape: [3, 4], constant: true), Sample(shape: [3], constant: true)]
        case .matmul: return [Sample(shape: [2, 3, 4]), Sample(shape: [2, 4, 5])]
        case .conv2d: return [Sample(shape: [1, 2, 6, 6]), Sample(shape: [4, 2, 3, 3], constant: true), Sample(shape: [4], constant: true)]
        case .layerNorm: return [Sample(shape: [3, 8]), Sample(shape: [8], constant: true), Sample(shape: [8], constant: true)]
        case .gelu, .relu, .sigmoid, .silu, .erf, .clip, .scale, .hardSigmoid, .softmax: return [Sample(shape: [2, 5])]
        case .add, .sub, .mul, .div: return [Sample(shape: [2, 5]), Sample(shape: [2, 5])]
        case .reshape: return [Sample(shape: [2, 6])]
        case .permute, .reduceMean: return [Sample(shape: [2, 3, 4])]
        case .concat: return [Sample(shape: [2, 3]), Sample(shape: [2, 4])]
        case .slice: return [Sample(shape: [4, 6])]
        case .gather: return [Sample(shape: [5, 3], constant: true), Sample(shape: [4], dtype: .i32)]
        case .maxPool2d: return [Sample(shape: [1, 2, 6, 6])]
        case .upsampleNearest: return [Sample(shape: [1, 2, 3, 3])]
        case .deformConv2d:
            return [Sample(shape: [1, 2, 5, 5]), Sample(shape: [1, 18, 5, 5]), Sample(shape: [1, 9, 5, 5]),
                    Sample(shape: [3, 2, 3, 3], constant: true), Sample(shape: [3], constant: true)]
        case .rmsNorm: return [Sample(shape: [3, 8]), Sample(shape: [8], constant: true)]
        case .hadamard: return [Sample(shape: [2, 12])]
        case .causalConv1d: return [Sample(shape: [1, 5, 4]), Sample(shape: [4, 1, 3], constant: true), Sample(shape: [4], constant: true)]
        case .selectiveScan:
            return [Sample(shape: [1, 5, 4]), Sample(shape: [1, 5, 4]), Sample(shape: [4, 2], constant: true),
                    Sample(shape: [1, 5, 2]), Sample(shape: [1, 5, 2]), Sample(shape: [4], constant: true),
                    Sample(shape: [4], constant: true), Sample(shape: [1, 5, 4])]
        }
    }

    /// A graph of the one node `op` on its sample operands.
    static func graph(_ op: Op) throws -> Graph {
        let g = GraphBuilder()
        let ids = try operands(op).enumerated().map { index, operand in
            operand.constant
                ? try g.constant("in\(index)", Tensor(zeros: operand.shape, dtype: operand.dtype))
                : try g.input("in\(index)", shape: operand.shape, dtype: operand.dtype)
        }
        g.markOutput(try g.node(op, ids, name: "out"))
        return try g.build()
    }

    func test_everyCaseHasOneSample() {
        XCTAssertEqual(Set(Self.ops.map(\.kind)).count, Self.ops.count)
    }

    func test_everyOpHasAShapeRuleThatAcceptsItsSample() throws {
        for op in Self.ops {
            XCTAssertNoThrow(try Self.graph(op), op.kind)
        }
    }

    func test_viewsMoveCodesOnlyAndKeepEveryElement() throws {
        for op in Self.ops where op.isView {
            let graph = try Self.graph(op)
            XCTAssertTrue(op.quantization.movesCodesOnly, op.kind)
            XCTAssertEqual(graph.info(graph.nodes[0].output).count, graph.info(graph.nodes[0].inputs[0]).count, op.kind)
        }
    }

    /// The INT8 executor runs these kernels on u8 codes with no scratch (`.movement`), and the
    /// calibrator gives their outputs their input's parameters: both hold only if the kernel moves
    /// elements and needs no scratch.
    func test_opsThatMoveCodesRunOnCodesWithoutScratchAndMatchTheFloatKernel() throws {
        var random = TestRandom(seed: 3)
        for op in Self.ops where op.quantization.movesCodesOnly {
            let graph = try Self.graph(op)
            let node = graph.nodes[0]
            XCTAssertEqual(node.inputs.count, 1, op.kind)
            XCTAssertEqual(FP32Kernels.scratchBytes(node, graph, threads: 4), 0, op.kind)
            let input = graph.info(node.inputs[0]), output = graph.info(node.output)
            let codes = (0..<input.count).map { _ in UInt8(random.int(in: 0...255)) }
            let x = try Tensor(shape: input.shape, values: codes.map(Float.init))
            let y = Tensor(zeros: output.shape)
            let xq = try Tensor(shape: input.shape, dtype: .u8, integers: codes)
            let yq = Tensor(zeros: output.shape, dtype: .u8)
            let noScratch = AlignedBuffer(byteCount: 0)
            for (from, to) in [(x, y), (xq, yq)] {
                try FP32Kernels.run(node, [Operand(pointer: from.rawPointer, shape: from.shape, dtype: from.dtype)],
                                    Operand(pointer: to.rawPointer, shape: to.shape, dtype: to.dtype),
                                    KernelContext(threads: 2, scratch: noScratch.pointer))
            }
            XCTAssertEqual(yq.floats(), y.floats(), op.kind)
        }
    }

    /// `QuantizedElementwise.codesOfUnary` runs the FP32 kernel with 64 bytes of scratch on a 1-D tensor.
    func test_unaryTablesAreElementwiseOnOneInputAndSaturateAsStated() throws {
        let output = ActivationQuant(scale: 10, zeroPoint: 128)
        for op in Self.ops where op.quantization.hasUnaryTable {
            let graph = try Self.graph(op)
            let node = graph.nodes[0]
            XCTAssertEqual(op.quantization.form, .floatIsland, op.kind)
            XCTAssertEqual(node.inputs.count, 1, op.kind)
            XCTAssertEqual(graph.info(node.output).shape, graph.info(node.inputs[0]).shape, op.kind)
            XCTAssertEqual(FP32Kernels.scratchBytes(node, graph, threads: 4), 0, op.kind)
            let farBelowZero = try QuantizedElementwise.codesOfUnary(node, at: Tensor(shape: [2], values: [-1000, -2000]), output: output)
            XCTAssertEqual(farBelowZero[0] == farBelowZero[1], op.quantization.saturates, op.kind)
        }
        XCTAssertFalse(Op.add.quantization.saturates)
    }

    func test_codePathsOfIslandsFitTheirOps() throws {
        for op in Self.ops {
            let inputs = Self.operands(op).count
            switch op.quantization.islandOnCodes {
            case nil, .unaryTable?:
                break
            case .addition?:
                XCTAssertEqual(op.quantization.form, .floatIsland, op.kind)
                XCTAssertEqual(inputs, 2, op.kind)
            case let .rows(normalization)?:
                switch (normalization, op.quantization.integerKernel) {
                case (.softmax, .softmax?): XCTAssertEqual(inputs, 1)
                case let (.layerNorm(a), .layerNorm(b)?): XCTAssertEqual(a, b); XCTAssertEqual(inputs, 3)
                default: XCTFail("\(op.kind): rows \(normalization) next to kernel \(String(describing: op.quantization.integerKernel))")
                }
            }
        }
    }

    func test_integerKernelsRunWhereTheirOperandsAllowAndFitTheirOps() throws {
        var recipe = QuantizationRecipe()
        recipe.softmax = .lut
        recipe.layerNorm = .integer
        for op in Self.ops {
            guard let kernel = op.quantization.integerKernel else { continue }
            let graph = try Self.graph(op)
            XCTAssertEqual(Int8Executor.execution(of: graph.nodes[0], graph: graph, recipe: recipe), .integer, op.kind)
            switch (op, kernel) {
            case (.linear, .linear), (.softmax, .softmax): break
            case let (.conv2d(a), .conv2d(b)): XCTAssertEqual(a, b)
            case let (.matmul(t1, a1), .matmul(t2, a2)): XCTAssertEqual(t1, t2); XCTAssertEqual(a1, a2)
            case let (.layerNorm(a), .layerNorm(b)): XCTAssertEqual(a, b)
            case let (.causalConv1d(a), .causalConv1d(b)): XCTAssertEqual(a, b)
            default: XCTFail("\(op.kind) names the kernel \(kernel)")
            }
        }
    }

    func test_executionFollowsTheForm() throws {
        let recipe = QuantizationRecipe()
        for op in Self.ops {
            let graph = try Self.graph(op)
            let execution = Int8Executor.execution(of: graph.nodes[0], graph: graph, recipe: recipe)
            switch op.quantization.form {
            case .view: XCTAssertEqual(execution, .view, op.kind)
            case .movesCodesOnly: XCTAssertEqual(execution, .movement, op.kind)
            case .integerKernel: XCTAssertTrue([.integer, .floatIsland].contains(execution), op.kind)
            case .floatIsland: XCTAssertEqual(execution, .floatIsland, op.kind)
            }
        }
    }

    /// One list of code-moving ops: the calibrator shares parameters exactly where the executor moves codes.
    func test_calibratorSharesParametersExactlyWhereTheExecutorMovesCodes() throws {
        let recipe = QuantizationRecipe()
        for op in Self.ops {
            let graph = try Self.graph(op)
            let node = graph.nodes[0]
            let execution = Int8Executor.execution(of: node, graph: graph, recipe: recipe)
            let inherits = Calibrator.inheritedParameters(graph)[node.output.index] == node.inputs[0].index
            XCTAssertEqual(inherits, execution == .view || execution == .movement, op.kind)
        }
    }
}

/// The public output-size rules against torch.
final class OutputSizeTests: XCTestCase {
    func test_convolutionOutputSizesMatchTorch() {
        // torch.nn.Conv2d(3, 64, 7, stride=2, padding=3)(torch.zeros(1, 3, 224, 225)).shape[2:] == (112, 113)
        let stem = Conv2dParams(stride: 2, padding: 3)
        XCTAssertTrue(stem.outputSize(height: 224, width: 225, kernelHeight: 7, kernelWidth: 7) == (112, 113))
        // Conv2d(k=3, stride=2, padding=1) on 7 -> 4; Conv2d(k=3, padding=2, dilation=2) on 10 -> 10; Conv2d(k=3) on 5 -> 3.
        XCTAssertEqual(Conv2dParams.outputExtent(7, kernel: 3, stride: 2, padding: 1), 4)
        XCTAssertEqual(Conv2dParams.outputExtent(10, kernel: 3, stride: 1, padding: 2, dilation: 2), 10)
        XCTAssertEqual(Conv2dParams.outputExtent(5, kernel: 3, stride: 1, padding: 0), 3)
        // Conv2d(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0)) on 9x4 -> 5x4.
        let tall = Conv2dParams(strideH: 2, strideW: 1, padH: 1, padW: 0)
        XCTAssertTrue(tall.outputSize(height: 9, width: 4, kernelHeight: 3, kernelWidth: 1) == (5, 4))
    }

    func test_poolingOutputSizesMatchTorch() {
        // nn.MaxPool2d(3, 2, 1) on 112 -> 56 (ResNet stem); nn.MaxPool2d(3, 2, ceil_mode=True) on 18 -> 9, without -> 8.
        XCTAssertTrue(Pool2dParams(kernel: 3, stride: 2, padding: 1).outputSize(height: 112, width: 111) == (56, 56))
        XCTAssertTrue(Pool2dParams(kernel: 3, stride: 2, ceilMode: true).outputSize(height: 18, width: 4) == (9, 2))
        XCTAssertEqual(Pool2dParams.outputExtent(18, kernel: 3, stride: 2, padding: 0, ceilMode: false), 8)
        // nn.MaxPool2d(2, 2, ceil_mode=True) on 5 -> 3; nn.MaxPool2d(2, 2, padding=1, ceil_mode=True) on 3 -> 2
        // (a last window that would start in the right padding is dropped).
        XCTAssertEqual(Pool2dParams.outputExtent(5, kernel: 2, stride: 2, padding: 0, ceilMode: true), 3)
        XCTAssertEqual(Pool2dParams.outputExtent(3, kernel: 2, stride: 2, padding: 1, ceilMode: true), 2)
        // A kernel larger than the input gives no window.
        XCTAssertEqual(Pool2dParams.outputExtent(1, kernel: 3, stride: 2, padding: 0, ceilMode: true), 0)
    }
}

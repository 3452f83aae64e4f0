import OnboardCore
import OnboardGraph
import OnboardTestSupport
import XCTest

/// Each op through the executor against a naive loop written from its definition.
final class OpTests: XCTestCase {
    var random = TestRandom(seed: 42)

    /// Runs one op on constants (inputs become graph constants) and returns the output.
    func runOp(_ op: Op, _ operands: [Tensor], threads: Int = 2) throws -> Tensor {
        let g = GraphBuilder()
        let ids = try operands.enumerated().map { try g.constant("in\($0.offset)", $0.element) }
        g.markOutput(try g.node(op, ids, name: "out"))
        return try FP32Executor(graph: try g.build(), threads: threads).run([:])["out"]!
    }

    func assertClose(_ actual: Tensor, _ expected: [Float], tolerance: Float = 1e-5, _ message: String = "", line: UInt = #line) {
        let (error, magnitude) = maxErrors(actual.floats(), expected)
        XCTAssertLessThanOrEqual(error, tolerance * max(magnitude, 1), message, line: line)
    }

    func test_linearWithAndWithoutBias() throws {
        for (m, k, n) in [(1, 1, 1), (5, 7, 3), (33, 64, 17), (2, 0, 4)] {
            let x = random.gaussian([m, k]), w = random.gaussian([n, k]), b = random.gaussian([n])
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for t in 0..<k { s += x.element(at: i * k + t) * w.element(at: j * k + t) }
                    expected[i * n + j] = s
                }
            }
            assertClose(try runOp(.linear, [x, w]), expected, "m\(m) k\(k) n\(n)")
            let biased = expected.enumerated().map { $0.element + b.element(at: $0.offset % n) }
            assertClose(try runOp(.linear, [x, w, b]), biased, "bias m\(m) k\(k) n\(n)")
        }
    }

    func test_batchedMatMulPlainTransposedAndShared() throws {
        for threads in [1, 2] {
            let (batch, m, k, n) = (6, 5, 4, 3)
            let a = random.gaussian([2, 3, m, k])
            let b = random.gaussian([2, 3, k, n]), bt = random.gaussian([2, 3, n, k]), shared = random.gaussian([k, n])
            func reference(_ bTensor: Tensor, transposed: Bool, sharedB: Bool) -> [Float] {
                var out = [Float](repeating: 0, count: batch * m * n)
                for z in 0..<batch {
                    for i in 0..<m {
                        for j in 0..<n {
                            var s: Float = 0
                            for t in 0..<k {
                                let base = sharedB ? 0 : z * k * n
                                let bv = bTensor.element(at: base + (transposed ? j * k + t : t * n + j))
                                s += a.element(at: z * m * k + i * k + t) * bv
                            }
                            out[z * m * n + i * n + j] = s
                        }
                    }
                }
                return out
            }
            assertClose(try runOp(.matmul(transposeB: false), [a, b], threads: threads), reference(b, transposed: false, sharedB: false))
            assertClose(try runOp(.matmul(transposeB: true), [a, bt], threads: threads), reference(bt, transposed: true, sharedB: false))
            assertClose(try runOp(.matmul(transposeB: false), [a, shared], threads: threads), reference(shared, transposed: false, sharedB: true))
        }
    }

    func test_conv2dAgainstDirectConvolution() throws {
        let cases: [(c: Int, o: Int, h: Int, w: Int, k: Int, p: Conv2dParams)] = [
            (3, 4, 8, 8, 3, Conv2dParams(stride: 1, padding: 1)),
            (2, 6, 9, 7, 3, Conv2dParams(stride: 2, padding: 1)),
            (4, 4, 10, 10, 3, Conv2dParams(stride: 1, padding: 2, dilation: 2)),
            (4, 6, 6, 6, 3, Conv2dParams(stride: 1, padding: 1, groups: 2)),
            (4, 4, 5, 5, 3, Conv2dParams(stride: 1, padding: 1, groups: 4)),
            // Depthwise (the direct kernel): strides, dilation, kernels wider than the padded edge.
            (3, 3, 9, 7, 3, Conv2dParams(strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 3)),
            (2, 2, 11, 10, 5, Conv2dParams(strideH: 1, strideW: 3, padH: 2, padW: 2, dilationH: 1, dilationW: 2, groups: 2)),
            (5, 5, 4, 3, 5, Conv2dParams(stride: 1, padding: 2, groups: 5)),
            (2, 2, 8, 8, 3, Conv2dParams(stride: 2, padding: 0, dilation: 2, groups: 2)),
            (3, 5, 6, 4, 1, Conv2dParams()),
            (3, 8, 16, 16, 4, Conv2dParams(stride: 4)),
        ]
        for (index, c) in cases.enumerated() {
            let x = random.gaussian([2, c.c, c.h, c.w])
            let weight = random.gaussian([c.o, c.c / c.p.groups, c.k, c.k]), bias = random.gaussian([c.o])
            let out = try runOp(.conv2d(c.p), [x, weight, bias])
            let (oh, ow) = (out.shape[2], out.shape[3])
            var expected = [Float](repeating: 0, count: out.count)
            let gin = c.c / c.p.groups, gout = c.o / c.p.groups
            for b in 0..<2 {
                for o in 0..<c.o {
                    let g = o / gout
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var s = bias.element(at: o)
                            for ci in 0..<gin {
                                for ky in 0..<c.k {
                                    for kx in 0..<c.k {
                                        let iy = oy * c.p.strideH - c.p.padH + ky * c.p.dilationH
                                        let ix = ox * c.p.strideW - c.p.padW + kx * c.p.dilationW
                                        guard iy >= 0, iy < c.h, ix >= 0, ix < c.w else { continue }
                                        let xv = x.element(at: ((b * c.c + g * gin + ci) * c.h + iy) * c.w + ix)
                                        s += xv * weight.element(at: ((o * gin + ci) * c.k + ky) * c.k + kx)
                                    }
                                }
                            }
                            expected[((b * c.o + o) * oh + oy) * ow + ox] = s
                        }
                    }
                }
            }
            assertClose(out, expected, "case \(index)")
        }
    }

    func test_binaryBroadcasting() throws {
        let a = random.gaussian([2, 3, 4]), row = random.gaussian([4]), column = random.gaussian([3, 1]), scalarLike = random.gaussian([1])
        func expect(_ b: Tensor, _ f: (Float, Float) -> Float) -> [Float] {
            (0..<24).map { i in
                let (z, r, c) = (i / 12, (i / 4) % 3, i % 4)
                _ = z
                let bv: Float
                switch b.shape {
                case [4]: bv = b.element(at: c)
                case [3, 1]: bv = b.element(at: r)
                default: bv = b.element(at: 0)
                }
                return f(a.element(at: i), bv)
            }
        }
        for b in [row, column, scalarLike] {
            assertClose(try runOp(.add, [a, b]), expect(b, +))
            assertClose(try runOp(.sub, [a, b]), expect(b, -))
            assertClose(try runOp(.mul, [a, b]), expect(b, *))
        }
        assertClose(try runOp(.div, [a, try Tensor(shape: [1], values: [4])]), a.floats().map { $0 / 4 })
        // Broadcasting the first operand.
        let out = try runOp(.sub, [row, a])
        XCTAssertEqual(out.shape, [2, 3, 4])
        assertClose(out, (0..<24).map { row.element(at: $0 % 4) - a.element(at: $0) })
    }

    /// Every permutation of a rank-4 tensor with odd sizes (tiled transposes and the general path)
    /// against index arithmetic.
    func test_everyPermutationOfARank4Tensor() throws {
        let shape = [3, 37, 5, 41]
        let x = random.gaussian(shape)
        func permutations(_ items: [Int]) -> [[Int]] {
            items.count <= 1 ? [items] : items.flatMap { first in permutations(items.filter { $0 != first }).map { [first] + $0 } }
        }
        let strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1]
        for permutation in permutations([0, 1, 2, 3]) {
            let y = try runOp(.permute(permutation), [x])
            let out = permutation.map { shape[$0] }
            XCTAssertEqual(y.shape, out)
            var mismatches = 0
            for flat in 0..<y.count {
                var rest = flat, source = 0
                for axis in stride(from: 3, through: 0, by: -1) {
                    source += (rest % out[axis]) * strides[permutation[axis]]
                    rest /= out[axis]
                }
                if y.element(at: flat) != x.element(at: source) { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "permutation \(permutation)")
        }
    }

    func test_permuteConcatSliceReshape() throws {
        let x = random.gaussian([2, 3, 4])
        let permuted = try runOp(.permute([2, 0, 1]), [x])
        XCTAssertEqual(permuted.shape, [4, 2, 3])
        for i in 0..<4 { for j in 0..<2 { for k in 0..<3 {
            XCTAssertEqual(permuted.element(at: (i * 2 + j) * 3 + k), x.element(at: (j * 3 + k) * 4 + i))
        } } }
        let keepLast = try runOp(.permute([1, 0, 2]), [x])
        for j in 0..<3 { for i in 0..<2 { for k in 0..<4 {
            XCTAssertEqual(keepLast.element(at: (j * 2 + i) * 4 + k), x.element(at: (i * 3 + j) * 4 + k))
        } } }
        let y = random.gaussian([2, 1, 4])
        let joined = try runOp(.concat(axis: 1), [x, y])
        XCTAssertEqual(joined.shape, [2, 4, 4])
        XCTAssertEqual(Array(joined.floats()[0..<12]), Array(x.floats()[0..<12]))
        XCTAssertEqual(Array(joined.floats()[12..<16]), Array(y.floats()[0..<4]))
        let sliced = try runOp(.slice(axis: 2, start: 1, end: 4, step: 2), [x])
        XCTAssertEqual(sliced.shape, [2, 3, 2])
        XCTAssertEqual(sliced.floats(), (0..<6).flatMap { r in [x.element(at: r * 4 + 1), x.element(at: r * 4 + 3)] })
        let reshaped = try runOp(.reshape([6, 4]), [x])
        XCTAssertEqual(reshaped.floats(), x.floats())
    }

    func test_activationsSoftmaxLayerNormMean() throws {
        let x = random.gaussian([3, 5], scale: 2)
        assertClose(try runOp(.relu, [x]), x.floats().map { max($0, 0) })
        assertClose(try runOp(.scale(-1.5), [x]), x.floats().map { $0 * -1.5 })
        assertClose(try runOp(.sigmoid, [x]), x.floats().map { 1 / (1 + exp(-$0)) })
        assertClose(try runOp(.silu, [x]), x.floats().map { $0 / (1 + exp(-$0)) })
        assertClose(try runOp(.gelu(approximate: false), [x]), x.floats().map { (v: Float) -> Float in
            let inner: Float = erf(v / Float(2).squareRoot())
            return 0.5 * v * (1 + inner)
        })
        let softmax = try runOp(.softmax, [x]).floats()
        for r in 0..<3 {
            let row = (0..<5).map { x.element(at: r * 5 + $0) }
            let e = row.map { exp($0 - row.max()!) }
            for c in 0..<5 { XCTAssertEqual(softmax[r * 5 + c], e[c] / e.reduce(0, +), accuracy: 1e-6) }
        }
        let gamma = random.gaussian([5]), beta = random.gaussian([5])
        let normed = try runOp(.layerNorm(epsilon: 1e-5), [x, gamma, beta]).floats()
        for r in 0..<3 {
            let row = (0..<5).map { Double(x.element(at: r * 5 + $0)) }
            let mean = row.reduce(0, +) / 5
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
            for c in 0..<5 {
                let v = (row[c] - mean) / (variance + 1e-5).squareRoot() * Double(gamma.element(at: c)) + Double(beta.element(at: c))
                XCTAssertEqual(Double(normed[r * 5 + c]), v, accuracy: 1e-5)
            }
        }
        let mean = try runOp(.reduceMean(axis: 0, keepDims: true), [x])
        XCTAssertEqual(mean.shape, [1, 5])
        assertClose(mean, (0..<5).map { c in (0..<3).map { x.element(at: $0 * 5 + c) }.reduce(0, +) / 3 })
    }

    func test_gatherRowsAndRejectsOutOfRangeIndex() throws {
        let table = random.gaussian([5, 3])
        let indices = try Tensor(shape: [2, 2], dtype: .i64, integers: [4, 0, 2, 4])
        let out = try runOp(.gather, [table, indices])
        XCTAssertEqual(out.shape, [2, 2, 3])
        XCTAssertEqual(Array(out.floats()[0..<3]), Array(table.floats()[12..<15]))
        let bad = try Tensor(shape: [1], dtype: .i32, integers: [5])
        XCTAssertThrowsError(try runOp(.gather, [table, bad])) { error in
            XCTAssertTrue("\(error)".contains("index 5 outside the table of 5 rows"), "\(error)")
        }
    }
}

import OnboardCore
import OnboardQuant
import OnboardTestSupport

/// Seeded matrices shared by the transform tests.
extension TestRandom {
    mutating func matrix(_ rows: Int, _ cols: Int, scale: Float = 1) -> Matrix {
        // Cannot fail: the value count matches by construction.
        (try? Matrix(rows: rows, cols: cols, values: floats(rows * cols, scale: scale))) ?? Matrix(zeros: rows, cols)
    }
}

/// ||a - b|| / ||b|| over two matrices' values.
func relativeError(_ a: Matrix, _ b: Matrix) -> Double {
    let mse = QuantMetrics.mse(b.values, a.values), power = QuantMetrics.mse(b.values, [Float](repeating: 0, count: b.values.count))
    return power == 0 ? mse.squareRoot() : (mse / power).squareRoot()
}

/// Per-tensor asymmetric min-max fake quantization of a matrix.
func fakeQuantizedPerTensor(_ m: Matrix, bits: Int) throws -> Matrix {
    try Matrix(rows: m.rows, cols: m.cols,
               values: try UniformQuantizer(bits: bits, symmetric: false, granularity: .perTensor).fakeQuantize(m.values, shape: [m.values.count]))
}

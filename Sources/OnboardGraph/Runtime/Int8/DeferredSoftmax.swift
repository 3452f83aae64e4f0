import CKernels
import Foundation

/// The first half of a softmax with deferred normalization (`SoftmaxNormalization`): per row, the
/// u8 code of `e^(x_j - max)` in steps of 1/255, looked up from the code distance to the row's max
/// code (a 256-entry table built once from the input scale). The matmul reading the codes divides by
/// their row sum (`Int8MatMul`, `normalizesRows`).
struct DeferredSoftmax: Sendable {
    /// `reversed[255 - d]` = round(255 e^(-s d)): indexed by a code lifted so the row's max is 255.
    let reversed: [UInt8]

    init(input: ActivationQuant) {
        reversed = (0...255).map { c in UInt8((255 * exp(-Double(input.scale) * Double(255 - c))).rounded()) }
    }

    /// Rows `rows` of [*, width] codes.
    func run(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>, rows: Range<Int>, width: Int) {
        guard width > 0, !rows.isEmpty else { return }
        reversed.withUnsafeBufferPointer { table in
            onboard_q8_softmax_exp_rows(x + rows.lowerBound * width, y + rows.lowerBound * width, rows.count, width, table.baseAddress)
        }
    }
}

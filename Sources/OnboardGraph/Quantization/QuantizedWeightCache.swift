import OnboardCore

/// Quantized weights by constant name, shared by the INT8 executors of one model built at several
/// shapes (a sentence encoder has a graph per sequence length): each weight is quantized once, and
/// packed once for the 8-bit GEMM. Only share it between graphs whose same-named constants hold the
/// same values.
public final class QuantizedWeightCache: @unchecked Sendable {
    private let codes = Memo<String, QuantizedWeight>()
    /// 8-bit codes packed for `Int8Linear`, by the same names.
    let packed = Memo<String, PackedWeights>()

    public init() {}

    /// The codes of `name`, quantized by `make` the first time.
    public func value(_ name: String, make: () throws -> QuantizedWeight) rethrows -> QuantizedWeight {
        try codes.value(name, make: make)
    }
}

import Foundation

/// Quantized weights by constant name, shared by the INT8 executors of one model built at several
/// shapes (a sentence encoder has a graph per sequence length): each weight is quantized once.
/// Only share it between graphs whose same-named constants hold the same values.
public final class QuantizedWeightCache: @unchecked Sendable {
    private var weights: [String: QuantizedWeight] = [:]
    private let lock = NSLock()

    public init() {}

    func weight(_ name: String, make: () -> QuantizedWeight) -> QuantizedWeight {
        lock.lock()
        defer { lock.unlock() }
        if let cached = weights[name] { return cached }
        let made = make()
        weights[name] = made
        return made
    }
}

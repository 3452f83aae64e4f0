import OnboardCore

/// Which elements share one set of quantization parameters.
public enum Granularity: Equatable, Sendable {
    /// One scale for the whole tensor.
    case perTensor
    /// One scale per index along `axis` (weights [out, in]: axis 0 = per output channel).
    case perChannel(axis: Int)
    /// Contiguous groups of `size` along the last axis, per row; a row's last group may be shorter.
    case perGroup(size: Int)
    /// One scale per row of the last axis (activations [..., tokens, channels]: per token).
    case perToken
}

/// Uniform affine quantization (symmetric or asymmetric, 2...8 bits) at any granularity, with min-max
/// ranges taken from the tensor itself (dynamic; for static activation ranges use an observer).
public struct UniformQuantizer: Sendable {
    public let bits: Int
    public let symmetric: Bool
    public let granularity: Granularity

    public init(bits: Int, symmetric: Bool, granularity: Granularity) throws {
        guard (2...8).contains(bits) else { throw OnboardError.invalidArgument("quantizer bits must be in 2...8, got \(bits)") }
        if case let .perGroup(size) = granularity, size < 1 {
            throw OnboardError.invalidArgument("group size must be >= 1, got \(size)")
        }
        self.bits = bits
        self.symmetric = symmetric
        self.granularity = granularity
    }

    /// Maps each flat element index of a tensor of `shape` to its parameter slot.
    public struct Layout: Sendable {
        public let slotCount: Int
        let kind: Kind
        enum Kind: Sendable { case single, channel(inner: Int, length: Int), group(last: Int, size: Int, perRow: Int), row(last: Int) }

        @inline(__always)
        public func slot(_ index: Int) -> Int {
            switch kind {
            case .single: return 0
            case let .channel(inner, length): return (index / inner) % length
            case let .group(last, size, perRow): return (index / last) * perRow + (index % last) / size
            case let .row(last): return index / last
            }
        }
    }

    public func layout(shape: [Int], item: String) throws -> Layout {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw OnboardError.shape(item: item, reason: "negative dimension in \(shape)") }
        let count = shape.reduce(1, *)
        let last = max(shape.last ?? 1, 1)
        switch granularity {
        case .perTensor:
            return Layout(slotCount: 1, kind: .single)
        case let .perChannel(axis):
            guard axis >= 0, axis < shape.count else {
                throw OnboardError.shape(item: item, reason: "channel axis \(axis) outside shape \(shape)")
            }
            let inner = shape[(axis + 1)...].reduce(1, *)
            return Layout(slotCount: shape[axis], kind: .channel(inner: max(inner, 1), length: max(shape[axis], 1)))
        case let .perGroup(size):
            let perRow = (last + size - 1) / size
            return Layout(slotCount: count / last * perRow, kind: .group(last: last, size: size, perRow: perRow))
        case .perToken:
            return Layout(slotCount: count / last, kind: .row(last: last))
        }
    }

    /// Min-max parameters for each slot; throws naming `item` on a non-finite value or bad shape.
    public func calibrate(_ values: UnsafeBufferPointer<Float>, shape: [Int], item: String) throws -> [QuantParams] {
        guard shape.reduce(1, *) == values.count else {
            throw OnboardError.shape(item: item, reason: "\(values.count) values do not fill shape \(shape)")
        }
        let layout = try layout(shape: shape, item: item)
        var lo = [Float](repeating: 0, count: layout.slotCount), hi = lo
        for (i, v) in values.enumerated() {
            guard v.isFinite else { throw OnboardError.shape(item: item, reason: "element \(i) is \(v)") }
            let s = layout.slot(i)
            lo[s] = min(lo[s], v)
            hi[s] = max(hi[s], v)
        }
        return zip(lo, hi).map { QuantParams.affine(min: $0, max: $1, bits: bits, symmetric: symmetric) }
    }

    public func quantize(_ values: UnsafeBufferPointer<Float>, shape: [Int], params: [QuantParams], item: String) throws -> [Int32] {
        let layout = try checkedLayout(shape: shape, count: values.count, params: params, item: item)
        return values.enumerated().map { params[layout.slot($0)].quantize($1) }
    }

    public func dequantize(_ codes: [Int32], shape: [Int], params: [QuantParams], item: String) throws -> [Float] {
        let layout = try checkedLayout(shape: shape, count: codes.count, params: params, item: item)
        return codes.enumerated().map { params[layout.slot($0)].dequantize($1) }
    }

    /// Quantize-dequantize with min-max parameters computed from `values`.
    public func fakeQuantize(_ values: [Float], shape: [Int], item: String = "tensor") throws -> [Float] {
        try values.withUnsafeBufferPointer { buffer in
            let params = try calibrate(buffer, shape: shape, item: item)
            let layout = try self.layout(shape: shape, item: item)
            return buffer.enumerated().map { params[layout.slot($0)].fakeQuantize($1) }
        }
    }

    private func checkedLayout(shape: [Int], count: Int, params: [QuantParams], item: String) throws -> Layout {
        guard shape.reduce(1, *) == count else {
            throw OnboardError.shape(item: item, reason: "\(count) values do not fill shape \(shape)")
        }
        let layout = try layout(shape: shape, item: item)
        guard params.count == layout.slotCount else {
            throw OnboardError.shape(item: item, reason: "\(params.count) parameter sets given, \(granularity) needs \(layout.slotCount)")
        }
        return layout
    }
}

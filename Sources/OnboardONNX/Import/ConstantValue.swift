import OnboardCore

/// A tensor known while importing (an initializer, a `Constant`, a folded shape computation):
/// floating point types are held as Float, integer and boolean types as Int64.
struct ConstantValue: Equatable {
    enum Elements: Equatable {
        case floats([Float])
        case integers([Int64])
    }

    let shape: [Int]
    let elements: Elements

    init(shape: [Int], floats: [Float]) {
        self.shape = shape
        elements = .floats(floats)
    }

    init(shape: [Int], integers: [Int64]) {
        self.shape = shape
        elements = .integers(integers)
    }

    init(shape: [Int], elements: Elements) {
        self.shape = shape
        self.elements = elements
    }

    var count: Int {
        switch elements {
        case let .floats(values): return values.count
        case let .integers(values): return values.count
        }
    }

    var isInteger: Bool {
        if case .integers = elements { return true }
        return false
    }

    /// The elements as Float (integers converted).
    var floats: [Float] {
        switch elements {
        case let .floats(values): return values
        case let .integers(values): return values.map(Float.init)
        }
    }

    /// The elements as Int64 (floats truncated toward zero, as ONNX `Cast` does).
    var integers: [Int64] {
        switch elements {
        case let .floats(values):
            // Saturating: a float beyond Int64 (or NaN) from a hostile file must not trap the conversion.
            return values.map { value in
                guard value.isFinite else { return 0 }
                if value >= 9.2e18 { return .max }
                if value <= -9.2e18 { return .min }
                return Int64(value.rounded(.towardZero))
            }
        case let .integers(values): return values
        }
    }

    /// The elements as Int, for shapes, axes and indices.
    var ints: [Int] { integers.map { Int(clamping: $0) } }

    /// The f32 tensor of these elements.
    func tensor() throws -> Tensor { try Tensor(shape: shape, values: floats) }

    /// The same elements in another shape (the counts must agree).
    func reshaped(_ shape: [Int]) -> ConstantValue { ConstantValue(shape: shape, elements: elements) }

    /// Elements picked by flat index, in a new shape.
    func picking(_ indices: [Int], shape: [Int]) -> ConstantValue {
        switch elements {
        case let .floats(values): return ConstantValue(shape: shape, floats: indices.map { values[$0] })
        case let .integers(values): return ConstantValue(shape: shape, integers: indices.map { values[$0] })
        }
    }
}

/// A dense, row-major tensor over 64-byte aligned storage.
///
/// `Tensor` has reference semantics for its elements: copies of a tensor share the buffer.
/// Use `copied()` for an independent copy.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let dtype: DType
    public let buffer: AlignedBuffer
    public let byteOffset: Int

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.byteSize }
    public var rank: Int { shape.count }
    public var rawPointer: UnsafeMutableRawPointer { buffer.pointer + byteOffset }

    /// When the elements are a mapped file's bytes (weights read in place), hands their pages back
    /// to the system: for weights a kernel has copied into its own layout. Reading the tensor later
    /// still works (the pages come back from the file).
    public func releaseMappedPages() { buffer.releaseMappedPages(byteOffset: byteOffset, count: byteCount) }

    /// A zero-filled tensor.
    public init(zeros shape: [Int], dtype: DType = .f32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let count = shape.reduce(1, *)
        self.init(shape: shape, dtype: dtype, buffer: AlignedBuffer(byteCount: count * dtype.byteSize), byteOffset: 0)
    }

    /// Wraps `buffer` at `byteOffset`; the caller guarantees the span fits.
    public init(shape: [Int], dtype: DType, buffer: AlignedBuffer, byteOffset: Int = 0) {
        precondition(byteOffset + shape.reduce(1, *) * dtype.byteSize <= buffer.byteCount, "tensor exceeds its buffer")
        self.shape = shape
        self.dtype = dtype
        self.buffer = buffer
        self.byteOffset = byteOffset
    }

    /// An f32 tensor holding `values`; throws if the count does not match `shape`.
    public init(shape: [Int], values: [Float]) throws {
        let count = shape.reduce(1, *)
        guard count == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw OnboardError.shape(item: "tensor", reason: "\(values.count) values do not fill shape \(shape)")
        }
        self.init(zeros: shape, dtype: .f32)
        values.withUnsafeBufferPointer { src in
            rawPointer.copyMemory(from: src.baseAddress!, byteCount: count * 4)
        }
    }

    /// Integer tensor (`.i8`, `.u8`, `.i32`, `.i64`) from values; throws if a value does not fit.
    public init<T: BinaryInteger>(shape: [Int], dtype: DType, integers: [T]) throws {
        let count = shape.reduce(1, *)
        guard count == integers.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw OnboardError.shape(item: "tensor", reason: "\(integers.count) values do not fill shape \(shape)")
        }
        self.init(zeros: shape, dtype: dtype)
        // Int32 into i32 needs no check; the generic loop below is not specialized across modules.
        if dtype == .i32, let same = integers as? [Int32] {
            same.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { rawPointer.copyMemory(from: base, byteCount: bytes.count) }
            }
            return
        }
        for (i, v) in integers.enumerated() {
            switch dtype {
            case .i8:
                guard let x = Int8(exactly: v) else { throw OnboardError.invalidArgument("\(v) does not fit i8") }
                rawPointer.storeBytes(of: x, toByteOffset: i, as: Int8.self)
            case .u8:
                guard let x = UInt8(exactly: v) else { throw OnboardError.invalidArgument("\(v) does not fit u8") }
                rawPointer.storeBytes(of: x, toByteOffset: i, as: UInt8.self)
            case .i32:
                guard let x = Int32(exactly: v) else { throw OnboardError.invalidArgument("\(v) does not fit i32") }
                rawPointer.storeBytes(of: x, toByteOffset: i * 4, as: Int32.self)
            case .i64:
                guard let x = Int64(exactly: v) else { throw OnboardError.invalidArgument("\(v) does not fit i64") }
                rawPointer.storeBytes(of: x, toByteOffset: i * 8, as: Int64.self)
            case .f32, .f16, .bf16:
                throw OnboardError.invalidArgument("integers given for a \(dtype) tensor")
            }
        }
    }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count, newShape.allSatisfy({ $0 >= 0 }) else {
            throw OnboardError.shape(item: "reshape", reason: "cannot view \(shape) as \(newShape)")
        }
        return Tensor(shape: newShape, dtype: dtype, buffer: buffer, byteOffset: byteOffset)
    }

    /// An independent copy.
    public func copied() -> Tensor {
        let out = Tensor(zeros: shape, dtype: dtype)
        out.rawPointer.copyMemory(from: rawPointer, byteCount: byteCount)
        return out
    }

    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .f32, "withFloats on a \(dtype) tensor")
        return try body(UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: Float.self), count: count))
    }

    public func withMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .f32, "withMutableFloats on a \(dtype) tensor")
        return try body(UnsafeMutableBufferPointer(start: rawPointer.assumingMemoryBound(to: Float.self), count: count))
    }

    public var floatPointer: UnsafeMutablePointer<Float> {
        precondition(dtype == .f32, "floatPointer on a \(dtype) tensor")
        return rawPointer.assumingMemoryBound(to: Float.self)
    }

    /// The elements as `Float`, whatever the stored type.
    public func floats() -> [Float] {
        (0..<count).map { element(at: $0) }
    }

    /// One element as `Float`, by flat index.
    public func element(at index: Int) -> Float {
        let p = rawPointer
        switch dtype {
        case .f32: return p.load(fromByteOffset: index * 4, as: Float.self)
        case .f16: return HalfFloat.f16ToFloat(p.load(fromByteOffset: index * 2, as: UInt16.self))
        case .bf16: return HalfFloat.bf16ToFloat(p.load(fromByteOffset: index * 2, as: UInt16.self))
        case .i8: return Float(p.load(fromByteOffset: index, as: Int8.self))
        case .u8: return Float(p.load(fromByteOffset: index, as: UInt8.self))
        case .i32: return Float(p.load(fromByteOffset: index * 4, as: Int32.self))
        case .i64: return Float(p.load(fromByteOffset: index * 8, as: Int64.self))
        }
    }

    /// The tensor with f16/bf16 elements widened to f32 (other types unchanged).
    public func widened() -> Tensor {
        guard dtype == .f16 || dtype == .bf16 else { return self }
        let out = Tensor(zeros: shape, dtype: .f32)
        let src = rawPointer.assumingMemoryBound(to: UInt16.self)
        let dst = out.floatPointer
        if dtype == .f16 {
            for i in 0..<count { dst[i] = HalfFloat.f16ToFloat(src[i]) }
        } else {
            for i in 0..<count { dst[i] = HalfFloat.bf16ToFloat(src[i]) }
        }
        return out
    }
}

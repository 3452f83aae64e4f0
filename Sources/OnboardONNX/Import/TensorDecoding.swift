import Foundation
import OnboardCore

/// `TensorProto` → `ConstantValue`: typed fields, `raw_data` (little-endian) or external data in a
/// file beside the model. Sizes are checked against the declared shape before anything is
/// allocated, and an external file must lie inside the model's folder.
struct TensorDecoding {
    /// The model file, for error messages and to resolve external data.
    let modelPath: String

    func decode(_ proto: Onnx_TensorProto, item: String) throws -> ConstantValue {
        func fail(_ reason: String) -> OnboardError { .format(path: modelPath, item: item, reason: reason) }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else { throw fail("dimensions \(proto.dims) out of range") }
        let shape = proto.dims.map { Int($0) }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)), let width = Self.byteWidth(type) else {
            throw fail("data type \(proto.dataType) is not supported (float, double, float16, bfloat16, int8/16/32/64, uint8, bool)")
        }
        try MemoryLimit.requireAllocatable(shape, bytesPerElement: max(width, 4), item: item, path: modelPath)
        let count = MemoryLimit.product(shape) ?? 0
        if proto.dataLocation == .external {
            return try decodeRaw(try externalBytes(proto, count: count, width: width, item: item), type: type, shape: shape)
        }
        if proto.hasRawData {
            guard proto.rawData.count == count * width else {
                throw fail("raw_data holds \(proto.rawData.count) bytes, the shape \(shape) needs \(count * width)")
            }
            return try decodeRaw(proto.rawData, type: type, shape: shape)
        }
        let typed: ConstantValue
        switch type {
        case .float: typed = ConstantValue(shape: shape, floats: proto.floatData)
        case .double: typed = ConstantValue(shape: shape, floats: proto.doubleData.map { Float($0) })
        case .int64: typed = ConstantValue(shape: shape, integers: proto.int64Data)
        case .float16, .bfloat16:
            typed = ConstantValue(shape: shape, floats: proto.int32Data.map { bits in
                type == .float16 ? HalfFloat.f16ToFloat(UInt16(truncatingIfNeeded: bits))
                                 : HalfFloat.bf16ToFloat(UInt16(truncatingIfNeeded: bits))
            })
        default: typed = ConstantValue(shape: shape, integers: proto.int32Data.map(Int64.init))
        }
        guard typed.count == count else { throw fail("holds \(typed.count) values, the shape \(shape) needs \(count)") }
        return typed
    }

    static func byteWidth(_ type: Onnx_TensorProto.DataType) -> Int? {
        switch type {
        case .float, .int32: return 4
        case .double, .int64: return 8
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        default: return nil
        }
    }

    private func decodeRaw(_ bytes: Data, type: Onnx_TensorProto.DataType, shape: [Int]) throws -> ConstantValue {
        bytes.withUnsafeBytes { raw in
            let count = raw.count / (Self.byteWidth(type) ?? 1)
            func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T { T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            switch type {
            case .float:
                #if _endian(little)
                // The bytes are the floats: one copy instead of a load per element (ViT-B's 330 MB).
                let floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    if let source = raw.baseAddress, let target = buffer.baseAddress {
                        UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 4)
                    }
                    initialized = count
                }
                return ConstantValue(shape: shape, floats: floats)
                #else
                return ConstantValue(shape: shape, floats: (0..<count).map { Float(bitPattern: load(UInt32.self, $0)) })
                #endif
            case .double: return ConstantValue(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) })
            case .float16: return ConstantValue(shape: shape, floats: (0..<count).map { HalfFloat.f16ToFloat(load(UInt16.self, $0)) })
            case .bfloat16: return ConstantValue(shape: shape, floats: (0..<count).map { HalfFloat.bf16ToFloat(load(UInt16.self, $0)) })
            case .int64: return ConstantValue(shape: shape, integers: (0..<count).map { load(Int64.self, $0) })
            case .int32: return ConstantValue(shape: shape, integers: (0..<count).map { Int64(load(Int32.self, $0)) })
            case .int16: return ConstantValue(shape: shape, integers: (0..<count).map { Int64(load(Int16.self, $0)) })
            case .int8: return ConstantValue(shape: shape, integers: (0..<count).map { Int64(load(Int8.self, $0)) })
            default: return ConstantValue(shape: shape, integers: (0..<count).map { Int64(load(UInt8.self, $0)) })
            }
        }
    }

    /// The bytes of an external tensor: `location` relative to the model's folder and inside it
    /// (links resolved), `offset` and `length` within the file.
    private func externalBytes(_ proto: Onnx_TensorProto, count: Int, width: Int, item: String) throws -> Data {
        func fail(_ reason: String) -> OnboardError { .format(path: modelPath, item: item, reason: reason) }
        let fields = Dictionary(proto.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        guard let location = fields["location"], !location.isEmpty else { throw fail("external data without a location") }
        let folder = URL(fileURLWithPath: modelPath).deletingLastPathComponent().resolvingSymlinksInPath().path
        let file = URL(fileURLWithPath: location, relativeTo: URL(fileURLWithPath: folder + "/")).resolvingSymlinksInPath().path
        guard !location.hasPrefix("/"), file.hasPrefix(folder + "/") else {
            throw fail("external data location '\(location)' lies outside the model's folder")
        }
        guard let offset = Int(fields["offset"] ?? "0"), offset >= 0 else { throw fail("external data offset '\(fields["offset"] ?? "")' is not a byte offset") }
        let needed = count * width
        if let length = fields["length"] {
            guard Int(length) == needed else { throw fail("external data length \(length), the shape needs \(needed) bytes") }
        }
        let fd = try InputFile.openRegular(file, what: "external data of \(item)")
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            let size = try handle.seekToEnd()
            guard UInt64(offset) + UInt64(needed) <= size else {
                throw fail("external data '\(location)' holds \(size) bytes, \(needed) are needed from offset \(offset)")
            }
            try handle.seek(toOffset: UInt64(offset))
            guard let bytes = try handle.read(upToCount: needed), bytes.count == needed else {
                throw fail("external data '\(location)' ended early")
            }
            return bytes
        } catch let error as OnboardError {
            throw error
        } catch {
            throw OnboardError.io(path: file, reason: "cannot read external data: \(error.localizedDescription)")
        }
    }
}

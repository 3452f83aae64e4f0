import Foundation

/// Writes safetensors files atomically, tensors in the order given.
public enum SafeTensorsWriter {
    /// - Parameters:
    ///   - storeAs: per-tensor storage type for f32 tensors (`.f16` or `.bf16` to halve the size).
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)],
        metadata: [String: String] = [:],
        storeAs: [String: DType] = [:],
        to path: String
    ) throws {
        var seen = Set<String>()
        var header = "{"
        var offset = 0
        var stored: [(Tensor, DType)] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0]!))" }
            header += "\"__metadata__\":{\(fields.joined(separator: ","))},"
        }
        for (name, tensor) in tensors {
            guard seen.insert(name).inserted else { throw OnboardError.invalidArgument("\(path): tensor '\(name)' given twice") }
            guard name != "__metadata__" else { throw OnboardError.invalidArgument("\(path): '__metadata__' is reserved") }
            let target = storeAs[name] ?? tensor.dtype
            guard target == tensor.dtype || (tensor.dtype == .f32 && (target == .f16 || target == .bf16)) else {
                throw OnboardError.invalidArgument("\(path): tensor '\(name)' of \(tensor.dtype) cannot be stored as \(target)")
            }
            let bytes = tensor.count * target.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            header += "\(JSONText.quoted(name)):{\"dtype\":\"\(target.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]},"
            offset += bytes
            stored.append((tensor, target))
        }
        if header.hasSuffix(",") { header.removeLast() }
        header += "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }

        try AtomicFile(path: path).write { sink in
            var length = UInt64(headerBytes.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink.append($0) }
            try sink.append(headerBytes)
            for (tensor, target) in stored {
                if target == tensor.dtype {
                    try sink.append(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount))
                } else {
                    let halves: [UInt16] = tensor.withFloats { values in
                        values.map { target == .f16 ? HalfFloat.floatToF16($0) : HalfFloat.floatToBF16($0) }
                    }
                    try halves.withUnsafeBytes { try sink.append($0) }
                }
            }
        }
    }
}

/// Minimal JSON text helpers for writers that need a stable byte layout.
public enum JSONText {
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

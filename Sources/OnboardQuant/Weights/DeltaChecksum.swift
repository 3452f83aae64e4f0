import OnboardCore

/// FNV-1a (64-bit): what a delta file stores to detect a changed or damaged tensor (per tensor,
/// over its header, scales as f16 bits and stream) and a removed or added one (over every entry).
struct DeltaChecksum {
    private(set) var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ byte: UInt8) {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    mutating func mix(_ bytes: UnsafeRawBufferPointer) { bytes.forEach { mix($0) } }

    mutating func mix(_ text: String) { text.utf8.forEach { mix($0) } }

    mutating func mix(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { mix($0) } }

    var value: Int64 { Int64(bitPattern: hash) }

    static func of(header: [Int64], scales: [Float], stream: [UInt8]) -> Int64 {
        var checksum = DeltaChecksum()
        header.forEach { checksum.mix($0) }
        for scale in scales {
            withUnsafeBytes(of: HalfFloat.floatToF16(scale).littleEndian) { checksum.mix($0) }
        }
        stream.forEach { checksum.mix($0) }
        return checksum.value
    }

    /// Over every stored tensor of a delta file, by name: names, dtypes, shapes and bytes.
    static func of(entries: [(name: String, tensor: Tensor)]) -> Int64 {
        var checksum = DeltaChecksum()
        for (name, tensor) in entries.sorted(by: { $0.name < $1.name }) {
            checksum.mix(name)
            checksum.mix(tensor.dtype.safetensorsName)
            tensor.shape.forEach { checksum.mix(Int64($0)) }
            checksum.mix(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount))
        }
        return checksum.value
    }
}

/// What a delta records of the base it was made from: a 64-bit FNV-1a over every tensor's name,
/// dtype, shape and bytes (8 bytes a step; float tensors as the f32 values the models read), hex.
public enum DeltaFingerprint {
    public static func of(_ file: SafeTensorsFile) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) { hash = (hash ^ word) &* 0x0000_0100_0000_01b3 }
        for entry in file.entries.sorted(by: { $0.name < $1.name }) {
            let tensor = file.tensor(entry)
            for byte in entry.name.utf8 { mix(UInt64(byte)) }
            for byte in tensor.dtype.safetensorsName.utf8 { mix(UInt64(byte)) }
            entry.shape.forEach { mix(UInt64(bitPattern: Int64($0))) }
            let bytes = UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount)
            let words = bytes.count / 8
            for w in 0..<words { mix(bytes.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)) }
            for b in (words * 8)..<bytes.count { mix(UInt64(bytes[b])) }
        }
        return String(hash, radix: 16)
    }
}

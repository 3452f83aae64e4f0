import OnboardCore

/// FNV-1a (64-bit) over a DeltaDQ header, its scales (as f16 bits) and its stream: what a delta
/// file stores to detect a changed or damaged tensor.
enum DeltaChecksum {
    static func of(header: [Int64], scales: [Float], stream: [UInt8]) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        for value in header {
            withUnsafeBytes(of: value.littleEndian) { $0.forEach(mix) }
        }
        for scale in scales {
            withUnsafeBytes(of: HalfFloat.floatToF16(scale).littleEndian) { $0.forEach(mix) }
        }
        stream.forEach(mix)
        return Int64(bitPattern: hash)
    }
}

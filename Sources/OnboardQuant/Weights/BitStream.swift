/// Little-endian bit packing for compressed weight streams.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var bitCount = 0

    mutating func write(_ value: UInt32, bits: Int) {
        guard bits > 0 else { return }
        for b in 0..<bits {
            if bitCount % 8 == 0 { bytes.append(0) }
            if (value >> UInt32(b)) & 1 == 1 { bytes[bytes.count - 1] |= UInt8(1 << (bitCount % 8)) }
            bitCount += 1
        }
    }
}

struct BitReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Nil when the stream ends early (a truncated or corrupt file).
    mutating func read(bits: Int) -> UInt32? {
        guard bits > 0 else { return 0 }
        guard position + bits <= bytes.count * 8 else { return nil }
        var value: UInt32 = 0
        for b in 0..<bits {
            if (bytes[position >> 3] >> UInt8(position & 7)) & 1 == 1 { value |= 1 << UInt32(b) }
            position += 1
        }
        return value
    }
}

/// Bits needed to store values 0...n - 1 (0 for n <= 1).
func bitsFor(_ n: Int) -> Int { n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount }

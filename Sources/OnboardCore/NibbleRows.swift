/// Signed 4-bit codes stored two per byte, row by row, as a quantized bundle keeps 4-bit weights:
/// byte c of a row holds code 2c in its low nibble and code 2c + 1 in its high nibble (two's
/// complement; an odd row ends in a zero nibble).
public enum NibbleRows {
    public static func packedWidth(_ width: Int) -> Int { (width + 1) / 2 }

    /// Codes [rows, width] (each in -8...7) as u8 [rows, packedWidth(width)].
    public static func pack(_ codes: Tensor) -> Tensor {
        let width = codes.shape.last ?? 1, rows = codes.count / max(width, 1)
        let packed = Tensor(zeros: Array(codes.shape.dropLast()) + [packedWidth(width)], dtype: .u8)
        let source = codes.rawPointer.assumingMemoryBound(to: Int8.self)
        let target = packed.rawPointer.assumingMemoryBound(to: UInt8.self)
        for row in 0..<rows {
            for column in 0..<width {
                let nibble = UInt8(bitPattern: source[row * width + column]) & 15
                target[row * packedWidth(width) + column / 2] |= column % 2 == 0 ? nibble : nibble << 4
            }
        }
        return packed
    }

    /// The int8 codes [rows, width] of a packed u8 [rows, packedWidth(width)].
    public static func unpack(_ packed: Tensor, width: Int) -> Tensor {
        let rows = packed.count / max(packedWidth(width), 1)
        let codes = Tensor(zeros: Array(packed.shape.dropLast()) + [width], dtype: .i8)
        let source = packed.rawPointer.assumingMemoryBound(to: UInt8.self)
        let target = codes.rawPointer.assumingMemoryBound(to: Int8.self)
        for row in 0..<rows {
            for column in 0..<width {
                let byte = source[row * packedWidth(width) + column / 2]
                let nibble = column % 2 == 0 ? byte << 4 : byte & 0xF0
                target[row * width + column] = Int8(bitPattern: nibble) >> 4
            }
        }
        return codes
    }
}

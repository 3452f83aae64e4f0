/// Element types Onboard stores. f16 and bf16 exist only in files: they are widened to f32 on load.
public enum DType: String, Sendable, Hashable, CaseIterable, Codable {
    case f32, f16, bf16, i8, u8, i32, i64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8: return 1
        case .i64: return 8
        }
    }

    /// The safetensors spelling ("F32", "BF16", ...).
    public var safetensorsName: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .i8: return "I8"
        case .u8: return "U8"
        case .i32: return "I32"
        case .i64: return "I64"
        }
    }

    public init?(safetensorsName: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else {
            return nil
        }
        self = match
    }

    /// f32, f16 or bf16.
    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }

    /// Whether tensors of this type are kept as they are in memory (the others are widened to f32).
    public var isResident: Bool { self != .f16 && self != .bf16 }
}

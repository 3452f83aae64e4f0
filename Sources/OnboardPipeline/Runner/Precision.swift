/// The arithmetic a bundle runs in: FP32 on a float bundle, INT8 on a quantized one (`quant.json`).
public enum Precision: String, Sendable, CaseIterable {
    case fp32, int8
}

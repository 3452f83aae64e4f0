import CKernels
import OnboardCore

/// The tables of Shift-Log2 codes (`LogCodeQuant`): the op writing them (a code-to-code table of
/// its unary float function), the product reading them, and their values for observers.
enum LogCodeTables {
    /// Input code -> the log code of the op's value there.
    static func unary(_ node: Node, input: ActivationQuant, output: LogCodeQuant) throws -> [UInt8] {
        let y = try QuantizedElementwise.valuesOfUnary(node, at: QuantizedElementwise.everyCode(input))
        return (0..<256).map { output.code(of: y.floatPointer[$0]) }
    }

    /// Log code -> the u8 a product reads (every byte covered; bytes past the zero code read as it).
    static func product(_ log: LogCodeQuant) -> [UInt8] {
        let codes = log.productCodes
        return (0..<256).map { $0 < codes.count ? codes[$0] : 0 }
    }

    static func dequantize(_ x: UnsafePointer<UInt8>, into y: UnsafeMutablePointer<Float>, count: Int, _ log: LogCodeQuant) {
        let values = (0..<256).map { log.value(of: UInt8($0)) }
        for i in 0..<count { y[i] = values[Int(x[i])] }
    }
}

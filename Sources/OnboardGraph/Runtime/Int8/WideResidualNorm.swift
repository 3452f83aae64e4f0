import OnboardCore
import OnboardQuant

/// An integer LayerNorm of an integer add that reads the add's two operands instead of its 8-bit
/// codes (recipe `"residual_bits": 16`): the residual sum is formed at 16 bits,
/// `v = ((a - za)·Ma + (b - zb)·Mb) >> 16` with |v| < 2^15, then normalized by DI-Norm (whose
/// result does not depend on v's scale but through eps). OSTQuant keeps the residual at 16 bits for
/// the same reason: in a post-LN encoder the residual's outlier channels set an 8-bit range that
/// leaves the other channels a few codes each. All integer.
struct WideResidualNorm: Sendable {
    static let fractionBits = 16

    let a: ValueID, b: ValueID
    let aZero: Int64, bZero: Int64
    let aMultiplier: Int64, bMultiplier: Int64
    let norm: DINorm
    let width: Int

    /// The integer layernorms (by node index) that may read their add's operands, and that add:
    /// those whose input an add of two same-shape code tensors makes. The operands must then live
    /// until the layernorm runs.
    static func candidates(in graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format],
                           recipe: QuantizationRecipe) -> [Int: Node] {
        guard recipe.residualBits == 16 else { return [:] }
        var producers: [ValueID: Node] = [:]
        for node in graph.nodes { producers[node.output] = node }
        var result: [Int: Node] = [:]
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer {
            guard case .layerNorm = node.op, let add = producers[node.inputs[0]], add.op == .add else { continue }
            let shape = graph.info(node.inputs[0]).shape
            guard add.inputs.allSatisfy({ graph.info($0).shape == shape }),
                  add.inputs.allSatisfy({ if case .q8 = formats[$0.index] { return true } else { return false } }) else { continue }
            result[index] = add
        }
        return result
    }

    /// nil when the operands or the output are not plain asymmetric u8 tensors.
    init?(add: Node, aq: ActivationQuant, bq: ActivationQuant, gamma: [Float], beta: [Float], epsilon: Float,
          output: ActivationQuant, width: Int) throws {
        guard output.qmin == 0, output.qmax == 255, aq.scale > 0, bq.scale > 0 else { return nil }
        let sa = Double(aq.scale), sb = Double(bq.scale)
        let sum = 255 * (sa + sb) / 32767  // the scale of v: any two codes sum below 2^15 in magnitude
        let one = Double(1 << Self.fractionBits)
        (a, b) = (add.inputs[0], add.inputs[1])
        (aZero, bZero) = (Int64(aq.zeroPoint), Int64(bq.zeroPoint))
        (aMultiplier, bMultiplier) = (Int64((sa / sum * one).rounded()), Int64((sb / sum * one).rounded()))
        norm = try DINorm(kind: .layerNorm, gamma: gamma, beta: beta, epsilon: Double(epsilon), inputScale: sum,
                          output: QuantParams(scale: output.scale, zeroPoint: output.zeroPoint, bits: 8, symmetric: false))
        self.width = width
    }

    func run(_ x: UnsafePointer<UInt8>, _ y: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<UInt8>, rows: Range<Int>) {
        var sums = [Int32](repeating: 0, count: width)
        var work = [Int64](repeating: 0, count: width)
        let half = Int64(1) << (Self.fractionBits - 1)
        for row in rows {
            let start = row * width
            for j in 0..<width {
                let value = (Int64(x[start + j]) - aZero) * aMultiplier + (Int64(y[start + j]) - bZero) * bMultiplier
                sums[j] = Int32((value + half) >> Self.fractionBits)
            }
            sums.withUnsafeBufferPointer { row in
                norm.normalizeRow(row.baseAddress!, work: &work) { out[start + $0] = UInt8($1) }
            }
        }
    }
}

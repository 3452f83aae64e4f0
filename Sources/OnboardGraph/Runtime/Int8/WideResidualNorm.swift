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
    /// Per channel: the operand's scale times the channel's residual-smoothing factor, over v's scale.
    let aMultipliers: [Int64], bMultipliers: [Int64]
    let norm: DINorm
    let width: Int

    /// An integer layernorm's residual add, and the `mul` by a per-channel constant between the two
    /// when the sum is a smoothed one (nil: none).
    struct Candidate {
        let add: Node
        let scaling: (node: Int, factors: [Float])?
    }

    /// The wide norms of a graph (by layernorm node index), and the nodes they make unneeded: a
    /// smoothed sum's `mul`, and its add when nothing else reads it (their outputs are never stored).
    struct Plan {
        var norms: [Int: WideResidualNorm] = [:]
        var bypassedNodes: Set<Int> = []
    }

    static func plan(in graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format],
                     recipe: QuantizationRecipe) throws -> Plan {
        var plan = Plan()
        var readers = [[Int]](repeating: [], count: graph.values.count)
        for (index, node) in graph.nodes.enumerated() { for input in node.inputs { readers[input.index].append(index) } }
        for output in graph.outputs { readers[output.index].append(-1) }
        var nodeIndex: [ValueID: Int] = [:]
        for (index, node) in graph.nodes.enumerated() { nodeIndex[node.output] = index }
        var sums: [(add: Int, mul: Int)] = []
        for (index, candidate) in candidates(in: graph, executions: executions, formats: formats, recipe: recipe) {
            let node = graph.nodes[index]
            guard case let .layerNorm(epsilon) = node.op, case let .q8(output) = formats[node.output.index],
                  case let .q8(aq) = formats[candidate.add.inputs[0].index], case let .q8(bq) = formats[candidate.add.inputs[1].index],
                  let gamma = graph.floatConstant(node.inputs[1]), let beta = graph.floatConstant(node.inputs[2]),
                  let norm = try WideResidualNorm(candidate: candidate, aq: aq, bq: bq, gamma: gamma.floats(), beta: beta.floats(),
                                                  epsilon: epsilon, output: output, width: graph.info(node.inputs[0]).shape.last ?? 0)
            else { continue }
            plan.norms[index] = norm
            if let scaling = candidate.scaling, let add = nodeIndex[candidate.add.output] { sums.append((add, scaling.node)) }
        }
        // A smoothed sum's mul (and then its add) is unneeded when only wide norms read it.
        for (add, mul) in sums {
            guard readers[graph.nodes[mul].output.index].allSatisfy({ plan.norms[$0] != nil }) else { continue }
            plan.bypassedNodes.insert(mul)
            if readers[graph.nodes[add].output.index].allSatisfy({ $0 == mul }) { plan.bypassedNodes.insert(add) }
        }
        return plan
    }

    /// The integer layernorms (by node index) that may read their add's operands: those whose input
    /// an add of two same-shape code tensors makes, directly or through a `mul` by a per-channel
    /// constant. The operands must then live until the layernorm runs.
    static func candidates(in graph: Graph, executions: [Int8Executor.Execution], formats: [Int8Executor.Format],
                           recipe: QuantizationRecipe) -> [Int: Candidate] {
        guard recipe.residualBits == 16 else { return [:] }
        var producers: [ValueID: (index: Int, node: Node)] = [:]
        for (index, node) in graph.nodes.enumerated() { producers[node.output] = (index, node) }
        var result: [Int: Candidate] = [:]
        for (index, node) in graph.nodes.enumerated() where executions[index] == .integer {
            guard case .layerNorm = node.op, var source = producers[node.inputs[0]]?.node else { continue }
            let shape = graph.info(node.inputs[0]).shape
            var scaling: (node: Int, factors: [Float])?
            if source.op == .mul, let factors = graph.floatConstant(source.inputs[1]), factors.shape == [shape.last ?? 0],
               let mul = producers[source.output], let add = producers[source.inputs[0]]?.node {
                scaling = (mul.index, factors.floats())
                source = add
            }
            guard source.op == .add, source.inputs.allSatisfy({ graph.info($0).shape == shape }),
                  source.inputs.allSatisfy({ if case .q8 = formats[$0.index] { return true } else { return false } }) else { continue }
            result[index] = Candidate(add: source, scaling: scaling)
        }
        return result
    }

    /// nil when the operands or the output are not plain asymmetric u8 tensors, or a channel factor
    /// is not positive and finite.
    init?(candidate: Candidate, aq: ActivationQuant, bq: ActivationQuant, gamma: [Float], beta: [Float], epsilon: Float,
          output: ActivationQuant, width: Int) throws {
        let factors = candidate.scaling.map { $0.factors.map(Double.init) } ?? [Double](repeating: 1, count: width)
        guard output.qmin == 0, output.qmax == 255, aq.scale > 0, bq.scale > 0, factors.count == width,
              factors.allSatisfy({ $0 > 0 && $0.isFinite }), let largest = factors.max() else { return nil }
        let sa = Double(aq.scale), sb = Double(bq.scale)
        let sum = 255 * (sa + sb) * largest / 32767  // the scale of v: any two codes sum below 2^15 in magnitude
        let one = Double(1 << Self.fractionBits)
        (a, b) = (candidate.add.inputs[0], candidate.add.inputs[1])
        (aZero, bZero) = (Int64(aq.zeroPoint), Int64(bq.zeroPoint))
        aMultipliers = factors.map { Int64((sa * $0 / sum * one).rounded()) }
        bMultipliers = factors.map { Int64((sb * $0 / sum * one).rounded()) }
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
                let value = (Int64(x[start + j]) - aZero) * aMultipliers[j] + (Int64(y[start + j]) - bZero) * bMultipliers[j]
                sums[j] = Int32((value + half) >> Self.fractionBits)
            }
            sums.withUnsafeBufferPointer { row in
                norm.normalizeRow(row.baseAddress!, work: &work) { out[start + $0] = UInt8($1) }
            }
        }
    }
}

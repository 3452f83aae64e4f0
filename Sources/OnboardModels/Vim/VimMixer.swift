import Foundation
import OnboardCore
import OnboardGraph

/// Mamba's mixer with bimamba v2 (`Mamba.forward`'s fast path in hustvl/Vim): one in_proj
/// into x and the gate z, a forward branch and a backward branch with their own conv1d,
/// x_proj, dt_proj, A and D, their sum (halved with `divide_out`) through out_proj.
///
/// The official backward branch flips x and z, runs the causal branch and flips its output
/// back; here it runs in the original token order with the anti-causal convolution and the
/// reverse scan, which compute the same values with no flipped copies.
enum VimMixer {
    static func mixer(_ c: VimLayerSpec, _ m: ModuleBuilder, _ u: ValueID, prefix: String) throws -> ValueID {
        let g = m.graph, inner = c.innerDim
        let (x, z) = try inputProjection(c, m, u, prefix: prefix)
        // Written by MambaQuant's smoothing (a recipe's "smoothing"): both gates are then z·sigmoid(s·z).
        let gateScale = m.weights.contains("\(prefix).gate_scale") ? try m.parameter("\(prefix).gate_scale", shape: [inner]) : nil
        let forward = try branch(c, m, x, z, gateScale, prefix: prefix, reverse: false)
        let backward = try branch(c, m, x, z, gateScale, prefix: prefix, reverse: true)
        var sum = try g.node(.add, [forward, backward], name: "\(prefix).bidirectional")
        if c.divideOut { sum = try g.node(.scale(0.5), [sum], name: "\(prefix).divide_out") }
        return try m.linear("\(prefix).out_proj", sum, out: c.embedDim, bias: false)
    }

    /// x and the gate z: the official in_proj, sliced; or, in a bundle MambaQuant's smoothing wrote,
    /// its two halves `in_proj_states` and `in_proj_gates` (quantized apart, as MambaQuant does, so
    /// that the smoothed gate keeps steps of its own).
    private static func inputProjection(_ c: VimLayerSpec, _ m: ModuleBuilder, _ u: ValueID, prefix: String) throws -> (ValueID, ValueID) {
        let g = m.graph, inner = c.innerDim
        if m.weights.contains("\(prefix).in_proj_states.weight") {
            return (try m.linear("\(prefix).in_proj_states", u, out: inner, bias: false),
                    try m.linear("\(prefix).in_proj_gates", u, out: inner, bias: false))
        }
        let xz = try m.linear("\(prefix).in_proj", u, out: 2 * inner, bias: false)
        return (try g.node(.slice(axis: 2, start: 0, end: inner, step: 1), [xz], name: "\(prefix).x"),
                try g.node(.slice(axis: 2, start: inner, end: 2 * inner, step: 1), [xz], name: "\(prefix).z"))
    }

    /// SiLU(conv1d(x)) → x_proj → (dt, B, C); dt_proj; the scan gated by SiLU(z).
    private static func branch(_ c: VimLayerSpec, _ m: ModuleBuilder, _ x: ValueID, _ z: ValueID, _ gateScale: ValueID?,
                               prefix: String, reverse: Bool) throws -> ValueID {
        let g = m.graph, inner = c.innerDim, rank = c.dtRank, state = c.dState
        let b = reverse ? "_b" : ""
        let conv = try g.node(.causalConv1d(reverse: reverse), [
            x, try m.parameter("\(prefix).conv1d\(b).weight", shape: [inner, 1, c.dConv]),
            try m.parameter("\(prefix).conv1d\(b).bias", shape: [inner]),
        ], name: "\(prefix).conv1d\(b)")
        let activated = try g.node(.silu, [conv], name: "\(prefix).conv1d\(b).act")
        let projected = try m.linear("\(prefix).x_proj\(b)", activated, out: rank + 2 * state, bias: false)
        func part(_ start: Int, _ end: Int, _ name: String) throws -> ValueID {
            try g.node(.slice(axis: 2, start: start, end: end, step: 1), [projected], name: "\(prefix).x_proj\(b).\(name)")
        }
        let dt = try part(0, rank, "dt"), bInput = try part(rank, rank + state, "B"), cInput = try part(rank + state, rank + 2 * state, "C")
        // dt_proj's bias is added inside the scan, before the softplus, as the official kernel does.
        let delta = try m.linear("\(prefix).dt_proj\(b)", dt, out: inner, bias: false)
        let deltaBias = try m.parameter("\(prefix).dt_proj\(b).bias", shape: [inner])
        let a = try decay(m, reverse ? "\(prefix).A_b_log" : "\(prefix).A_log", inner: inner, state: state)
        let d = try m.parameter(reverse ? "\(prefix).D_b" : "\(prefix).D", shape: [inner])
        let operands = [activated, delta, a, bInput, cInput, d, deltaBias, z] + (gateScale.map { [$0] } ?? [])
        return try g.node(.selectiveScan(reverse: reverse), operands, name: "\(prefix).scan\(b)")
    }

    /// A = -exp(A_log), computed once as the graph's constant `<A_log name>.neg_exp`.
    private static func decay(_ m: ModuleBuilder, _ name: String, inner: Int, state: Int) throws -> ValueID {
        let logs = try m.weights.take(name, shape: [inner, state])
        guard logs.dtype == .f32 else {
            throw OnboardError.format(path: m.weights.file.path, item: name, reason: "must be stored as float, not \(logs.dtype)")
        }
        return try m.graph.constant("\(name).neg_exp", try Tensor(shape: [inner, state], values: logs.floats().map { -Foundation.exp($0) }))
    }
}

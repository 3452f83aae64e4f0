import Foundation
import OnboardCore

/// Optimizes an OST pair without autograd: accept-if-better coordinate search on the Stiefel manifold.
///
/// OSTQuant trains R with Riemannian SGD/Adam (Cayley retraction) and s with Adam through autograd, on the
/// KL-Top loss of the model's logits. Here, per step, either a Givens rotation `R ← R · G(i, j, ±θ)` (which
/// keeps R exactly orthogonal, no retraction needed) or a scale update `s_k ← s_k e^(±η)` is proposed on a
/// random coordinate and kept only if the objective drops; θ and η shrink by half after a sweep with no
/// accepted move. The objective is the quantized layer's output error on calibration inputs: MSE, or
/// KL-Top (KL between the softmax over the float output's top-k entries and the quantized output's at the
/// same entries, the rows read as logits). Activations are fake-quantized per token (asymmetric) and
/// weights per output channel (symmetric), as in OSTQuant.
public struct OSTOptimizer: Sendable {
    public enum Objective: Equatable, Sendable { case mse, klTop(k: Int) }

    public var objective: Objective = .mse
    public var activationBits = 4
    public var weightBits = 4
    public var steps = 300
    public var angle: Float = 0.2
    public var scaleStep: Float = 0.3
    public var seed: UInt64 = 0

    public init() {}

    /// The objective for `pair` on calibration inputs [rows, in].
    public func loss(_ pair: OSTPair, calibration x: Matrix, layer: LinearLayer, reference: Matrix? = nil) throws -> Double {
        let reference = try reference ?? layer.forward(x)
        let folded = try pair.fold(into: layer)
        let xq = try pair.transform(x)
        let actQ = try UniformQuantizer(bits: activationBits, symmetric: false, granularity: .perToken)
        let wQ = try UniformQuantizer(bits: weightBits, symmetric: true, granularity: .perChannel(axis: 0))
        let xFake = try Matrix(rows: xq.rows, cols: xq.cols, values: try actQ.fakeQuantize(xq.values, shape: [xq.rows, xq.cols], item: "OST activations"))
        let w = folded.weight
        let wFake = try Matrix(rows: w.rows, cols: w.cols, values: try wQ.fakeQuantize(w.values, shape: [w.rows, w.cols], item: "OST weight"))
        let y = try LinearLayer(weight: wFake, bias: folded.bias).forward(xFake)
        switch objective {
        case .mse:
            return QuantMetrics.mse(reference.values, y.values)
        case let .klTop(k):
            return Self.klTop(reference, y, k: max(1, min(k, y.cols)))
        }
    }

    /// Mean over rows of KL(softmax(ref[top]) || softmax(y[top])), top = the reference's k largest entries.
    static func klTop(_ reference: Matrix, _ y: Matrix, k: Int) -> Double {
        var total = 0.0
        for r in 0..<reference.rows {
            let row = (0..<reference.cols).map { reference[r, $0] }
            let top = row.indices.sorted { row[$0] > row[$1] }.prefix(k)
            func softmax(_ v: [Double]) -> [Double] {
                let m = v.max() ?? 0
                let e = v.map { exp($0 - m) }, s = e.reduce(0, +)
                return e.map { $0 / s }
            }
            let p = softmax(top.map { Double(reference[r, $0]) }), q = softmax(top.map { Double(y[r, $0]) })
            total += zip(p, q).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * log($1.0 / max($1.1, 1e-300)) : 0) }
        }
        return total / Double(max(reference.rows, 1))
    }

    /// Refines `start`; returns the best pair and its loss history (one entry per accepted move, first = start).
    public func optimize(_ start: OSTPair, calibration x: Matrix, layer: LinearLayer) throws -> (pair: OSTPair, history: [Double]) {
        let d = start.scales.count
        guard x.cols == d, layer.inFeatures == d else {
            throw OnboardError.shape(item: "OST optimizer", reason: "calibration width \(x.cols) and layer input \(layer.inFeatures) must equal \(d)")
        }
        let reference = try layer.forward(x)
        var generator = SplitMix64(seed: seed)
        var best = start, bestLoss = try loss(start, calibration: x, layer: layer, reference: reference)
        var history = [bestLoss]
        var theta = angle, eta = scaleStep, acceptedThisSweep = false
        for step in 0..<steps {
            var candidate = best
            let sign: Float = generator.next() & 1 == 0 ? 1 : -1
            if d > 1, step % 2 == 0 {
                let i = Int(generator.next() % UInt64(d))
                var j = Int(generator.next() % UInt64(d - 1))
                if j >= i { j += 1 }
                let c = cos(sign * theta), s = sin(sign * theta)
                for r in 0..<d {
                    let a = best.rotation[r, i], b = best.rotation[r, j]
                    candidate.rotation[r, i] = c * a - s * b
                    candidate.rotation[r, j] = s * a + c * b
                }
            } else {
                let k = Int(generator.next() % UInt64(d))
                candidate.scales[k] *= exp(sign * eta)
            }
            let candidateLoss = try loss(candidate, calibration: x, layer: layer, reference: reference)
            if candidateLoss < bestLoss {
                best = candidate
                bestLoss = candidateLoss
                history.append(candidateLoss)
                acceptedThisSweep = true
            }
            if (step + 1) % (2 * d) == 0 {
                if !acceptedThisSweep { theta *= 0.5; eta *= 0.5 }
                acceptedThisSweep = false
            }
        }
        return (best, history)
    }
}

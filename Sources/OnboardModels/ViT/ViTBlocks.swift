import OnboardCore
import OnboardGraph

/// What a timm ViT transformer block needs to know (shared by the classifier and the feature backbone).
struct ViTBlockSpec {
    var embedDim: Int
    var numHeads: Int
    var mlpHiddenDim: Int
    var qkvBias: Bool
    var layerNormEps: Float
    /// "gelu" or "gelu_tanh".
    var act: String
    var layerScale: Bool

    var headDim: Int { embedDim / numHeads }
}

extension ViTConfig {
    var blockSpec: ViTBlockSpec {
        ViTBlockSpec(embedDim: embedDim, numHeads: numHeads, mlpHiddenDim: mlpHiddenDim, qkvBias: qkvBias,
                     layerNormEps: layerNormEps, act: act, layerScale: layerScale)
    }
}

extension ViTFeatureConfig {
    var blockSpec: ViTBlockSpec {
        ViTBlockSpec(embedDim: embedDim, numHeads: numHeads, mlpHiddenDim: mlpHiddenDim, qkvBias: qkvBias,
                     layerNormEps: layerNormEps, act: act, layerScale: false)
    }
}

/// timm `Block` and `Attention` on tokens [B, T, D]; module names under `prefix` (`blocks.{i}`).
enum ViTBlocks {
    static func block(_ c: ViTBlockSpec, _ m: ModuleBuilder, _ x: ValueID, prefix: String) throws -> ValueID {
        let g = m.graph
        let attention = try attention(c, m, try m.layerNorm("\(prefix).norm1", x, epsilon: c.layerNormEps), prefix: "\(prefix).attn")
        let x1 = try g.node(.add, [x, try layerScale(c, m, attention, "\(prefix).ls1")], name: "\(prefix).residual1")
        let hidden = try m.linear("\(prefix).mlp.fc1", try m.layerNorm("\(prefix).norm2", x1, epsilon: c.layerNormEps), out: c.mlpHiddenDim)
        let activated = try g.node(.gelu(approximate: c.act == "gelu_tanh"), [hidden], name: "\(prefix).mlp.act")
        let mlp = try m.linear("\(prefix).mlp.fc2", activated, out: c.embedDim)
        return try g.node(.add, [x1, try layerScale(c, m, mlp, "\(prefix).ls2")], name: "\(prefix).residual2")
    }

    private static func layerScale(_ c: ViTBlockSpec, _ m: ModuleBuilder, _ x: ValueID, _ module: String) throws -> ValueID {
        guard c.layerScale else { return x }
        return try m.graph.node(.mul, [x, try m.parameter("\(module).gamma", shape: [c.embedDim])], name: module)
    }

    /// Multi-head self-attention; the softmax scale 1/sqrt(head_dim) rides on the QKᵀ product.
    static func attention(_ c: ViTBlockSpec, _ m: ModuleBuilder, _ x: ValueID, prefix: String) throws -> ValueID {
        let g = m.graph, d = c.embedDim, h = c.numHeads, hd = c.headDim
        let batch = g.shape(x)[0], t = g.shape(x)[1]
        let scale = 1 / Float(hd).squareRoot()
        let qkv = try m.linear("\(prefix).qkv", x, out: 3 * d, bias: c.qkvBias)
        let split = try g.node(.reshape([batch, t, 3, h, hd]), [qkv], name: "\(prefix).qkv.split")
        let heads = try g.node(.permute([2, 0, 3, 1, 4]), [split], name: "\(prefix).qkv.heads")
        func part(_ index: Int, _ name: String) throws -> ValueID {
            let sliced = try g.node(.slice(axis: 0, start: index, end: index + 1, step: 1), [heads], name: "\(prefix).\(name).slice")
            return try g.node(.reshape([batch, h, t, hd]), [sliced], name: "\(prefix).\(name)")
        }
        let q = try part(0, "q"), k = try part(1, "k"), v = try part(2, "v")
        let scores = try g.node(.matmul(transposeB: true, alpha: scale), [q, k], name: "\(prefix).scores")
        let probabilities = try g.node(.softmax, [scores], name: "\(prefix).softmax")
        let context = try g.node(.matmul(transposeB: false), [probabilities, v], name: "\(prefix).context")
        let merged = try g.node(.permute([0, 2, 1, 3]), [context], name: "\(prefix).merge")
        let flat = try g.node(.reshape([batch, t, d]), [merged], name: "\(prefix).merge.flat")
        return try m.linear("\(prefix).proj", flat, out: d)
    }
}

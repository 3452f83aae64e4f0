import OnboardCore
import OnboardGraph
import OnboardQuant

/// Builds the graph of a Hugging Face `BertModel` encoder (post-LayerNorm blocks) followed by the
/// sentence-transformers pooling, for `batch` sequences of exactly `length` tokens.
///
/// Input `input_ids` [B, L] (i32); output `sentence_embedding` [B, D], pooled but not yet
/// L2-normalised. Token types are all 0 and positions start at 0, as sentence-transformers feeds
/// a single-segment text; `pooler.*` (BERT's tanh pooler) is not part of a sentence embedding.
public enum BertBuilder {
    public static let inputName = "input_ids"
    public static let outputName = "sentence_embedding"

    public static func build(
        config c: BertConfig, weights: WeightStore, batch: Int, length: Int, pooling: SentencePooling, transforms: BertTransforms? = nil
    ) throws -> Graph {
        if let transforms, transforms.layers.count != c.numHiddenLayers {
            throw OnboardError.invalidArgument("transforms for \(transforms.layers.count) layers, the model has \(c.numHiddenLayers)")
        }
        let m = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let g = m.graph
        let ids = try g.input(inputName, shape: [batch, length], dtype: .i32)
        var norm = try embeddings(c, m, ids, length: length)
        for index in 0..<c.numHiddenLayers {
            norm = try layer(c, m, norm, prefix: "encoder.layer.\(index)", transforms: transforms?.layers[index] ?? .init(),
                             cache: transforms?.folded)
        }
        g.markOutput(try pool(pooling, g, norm.value, batch: batch, width: c.hiddenSize))
        weights.discard("embeddings.position_ids")
        try weights.finish(ignoring: ["pooler."])
        return try g.build()
    }

    /// `BertEmbeddings`: word rows, plus the position rows 0..<L and token type 0 (one constant
    /// [1, L, D]), then LayerNorm.
    static func embeddings(_ c: BertConfig, _ m: ModuleBuilder, _ ids: ValueID, length: Int) throws -> NormOutput {
        let g = m.graph, d = c.hiddenSize
        let table = try m.parameter("embeddings.word_embeddings.weight", shape: [c.vocabSize, d])
        let words = try g.node(.gather, [table, ids], name: "embeddings.word_embeddings")
        let positions = try m.weights.take("embeddings.position_embeddings.weight", shape: [c.maxPositionEmbeddings, d])
        let types = try m.weights.take("embeddings.token_type_embeddings.weight", shape: [c.typeVocabSize, d])
        let added = Tensor(zeros: [1, length, d])
        for t in 0..<length {
            for j in 0..<d { added.floatPointer[t * d + j] = positions.floatPointer[t * d + j] + types.floatPointer[j] }
        }
        let constant = try g.constant("embeddings.position_and_type", added)
        let summed = try g.node(.add, [words, constant], name: "embeddings.sum")
        return NormOutput(value: try m.layerNorm("embeddings.LayerNorm", summed, epsilon: c.layerNormEps), module: "embeddings.LayerNorm",
                          input: summed)
    }

    /// A LayerNorm's output and what it was computed from (so a smoothed copy can be made).
    struct NormOutput {
        var value: ValueID
        var module: String
        var input: ValueID
    }

    /// `BertLayer`: h = LN(x + attention(x)); y = LN(h + FFN(h)).
    static func layer(
        _ c: BertConfig, _ m: ModuleBuilder, _ x: NormOutput, prefix: String, transforms t: BertTransforms.Layer, cache: BertTransforms.FoldedWeights?
    ) throws -> NormOutput {
        let g = m.graph
        let attentionInput = try smoothedCopy(c, m, x, t.attentionInput)
        let headRotation = t.headRotation.map { BertTransforms.perHead($0, heads: c.numAttentionHeads) }
        let context = try selfAttention(c, m, attentionInput, prefix: "\(prefix).attention.self", inputScale: t.attentionInput,
                                        valueScale: t.valueOutput, headRotation: headRotation, cache: cache)
        let projected = try foldedLinear(m, "\(prefix).attention.output.dense", context, out: c.hiddenSize, inputScale: t.valueOutput,
                                         outputScale: t.attentionResidual, inputRotation: headRotation, cache: cache)
        let h = try residualNorm(c, m, projected, x, scale: t.attentionResidual, prefix: "\(prefix).attention.output")
        let hidden = try foldedLinear(m, "\(prefix).intermediate.dense", try smoothedCopy(c, m, h, t.ffnInput), out: c.intermediateSize,
                                      inputScale: t.ffnInput, cache: cache)
        let activated = try g.node(.gelu(approximate: c.approximateGELU), [hidden], name: "\(prefix).intermediate.act")
        let output: ValueID
        if t.ffnOutputHadamard {
            let rotated = try g.node(.hadamard, [activated], name: BertTransforms.rotatedFFNName(prefix))
            output = try foldedLinear(m, "\(prefix).output.dense", rotated, out: c.hiddenSize, inputScale: nil, outputScale: t.ffnResidual,
                                      inputHadamard: try Hadamard(size: c.intermediateSize), cache: cache)
        } else {
            output = try foldedLinear(m, "\(prefix).output.dense", activated, out: c.hiddenSize, inputScale: nil, outputScale: t.ffnResidual,
                                      cache: cache)
        }
        return try residualNorm(c, m, output, h, scale: t.ffnResidual, prefix: "\(prefix).output")
    }

    /// `prefix.LayerNorm(sublayer + x)`, the sum named `prefix.residual`. With a residual smoothing s,
    /// `sublayer` is already divided by s, x is added as a copy of its LayerNorm divided by s, and
    /// the sum is multiplied back by s (`prefix.residual.scaled`) before the norm.
    static func residualNorm(
        _ c: BertConfig, _ m: ModuleBuilder, _ sublayer: ValueID, _ x: NormOutput, scale: [Float]?, prefix: String
    ) throws -> NormOutput {
        let g = m.graph
        var sum: ValueID
        if let scale {
            let operand = try smoothedCopy(c, m, x, scale, name: BertTransforms.residualOperandName(x.module))
            let smoothed = try g.node(.add, [sublayer, operand], name: "\(prefix).residual")
            let s = try g.constant("\(prefix).residual.scale", try Tensor(shape: [scale.count], values: scale))
            sum = try g.node(.mul, [smoothed, s], name: "\(prefix).residual.scaled")
        } else {
            sum = try g.node(.add, [sublayer, x.value], name: "\(prefix).residual")
        }
        return NormOutput(value: try m.layerNorm("\(prefix).LayerNorm", sum, epsilon: c.layerNormEps), module: "\(prefix).LayerNorm", input: sum)
    }

    /// The LayerNorm `norm` again with gamma / s and beta / s (its output divided by s per channel).
    static func smoothedCopy(_ c: BertConfig, _ m: ModuleBuilder, _ norm: NormOutput, _ scale: [Float]?, name: String? = nil) throws -> ValueID {
        guard let scale else { return norm.value }
        let d = c.hiddenSize
        let gamma = try m.weights.take("\(norm.module).weight", shape: [d]).floats()
        let beta = try m.weights.take("\(norm.module).bias", shape: [d]).floats()
        let name = name ?? BertTransforms.smoothedName(norm.module)
        let g = try m.graph.constant("\(name).weight", try Tensor(shape: [d], values: zip(gamma, scale).map { $0 / $1 }))
        let b = try m.graph.constant("\(name).bias", try Tensor(shape: [d], values: zip(beta, scale).map { $0 / $1 }))
        return try m.graph.node(.layerNorm(epsilon: c.layerNormEps), [norm.input, g, b], name: name)
    }

    /// `m.linear` taking `(x / inputScale) · inputRotation` (or `· inputHadamard`) and writing `(y / outputScale) · outputRotation`
    /// (`LinearLayer`'s folding); the folded tensors are made once per `cache`.
    static func foldedLinear(
        _ m: ModuleBuilder, _ module: String, _ x: ValueID, out: Int, inputScale: [Float]?, outputScale: [Float]? = nil,
        inputRotation: Matrix? = nil, outputRotation: Matrix? = nil, inputHadamard: Hadamard? = nil, cache: BertTransforms.FoldedWeights?
    ) throws -> ValueID {
        let transformed = inputScale != nil || outputScale != nil || inputRotation != nil || outputRotation != nil || inputHadamard != nil
        guard transformed, let cache else { return try m.linear(module, x, out: out) }
        let k = m.graph.shape(x).last ?? 0
        let weight = try m.weights.take("\(module).weight", shape: [out, k]), bias = try m.weights.take("\(module).bias", shape: [out])
        let folded = try cache.value(module) {
            var layer = try LinearLayer(weight: try Matrix(rows: out, cols: k, values: weight.floats()), bias: bias.floats())
            if let inputScale { layer = try layer.scalingInput(by: inputScale) }
            if let outputScale { layer = try layer.scalingOutput(by: outputScale) }
            if let inputRotation { layer = try layer.rotatingInput(by: inputRotation) }
            if let inputHadamard { layer = try layer.rotatingInput(by: inputHadamard) }
            if let outputRotation { layer = try layer.rotatingOutput(by: outputRotation) }
            return (try Tensor(shape: [out, k], values: layer.weight.values), try Tensor(shape: [out], values: layer.bias ?? []))
        }
        let w = try m.graph.constant("\(module).weight", folded.weight), b = try m.graph.constant("\(module).bias", folded.bias)
        return try m.graph.node(.linear, [x, w, b], name: module)
    }

    /// `BertSelfAttention` without a mask (every token is real): heads concatenated [B, L, D].
    static func selfAttention(
        _ c: BertConfig, _ m: ModuleBuilder, _ x: ValueID, prefix: String, inputScale: [Float]? = nil, valueScale: [Float]? = nil,
        headRotation: Matrix? = nil, cache: BertTransforms.FoldedWeights? = nil
    ) throws -> ValueID {
        let g = m.graph, d = c.hiddenSize, h = c.numAttentionHeads, hd = c.headDim
        let batch = g.shape(x)[0], t = g.shape(x)[1]
        func heads(_ name: String) throws -> ValueID {
            let projected = try foldedLinear(m, "\(prefix).\(name)", x, out: d, inputScale: inputScale,
                                             outputScale: name == "value" ? valueScale : nil, outputRotation: headRotation, cache: cache)
            let split = try g.node(.reshape([batch, t, h, hd]), [projected], name: "\(prefix).\(name).split")
            return try g.node(.permute([0, 2, 1, 3]), [split], name: "\(prefix).\(name).heads")
        }
        let q = try heads("query"), k = try heads("key"), v = try heads("value")
        let scores = try g.node(.matmul(transposeB: true, alpha: 1 / Float(hd).squareRoot()), [q, k], name: "\(prefix).scores")
        let probabilities = try g.node(.softmax, [scores], name: "\(prefix).softmax")
        let context = try g.node(.matmul(transposeB: false), [probabilities, v], name: "\(prefix).context")
        let merged = try g.node(.permute([0, 2, 1, 3]), [context], name: "\(prefix).merge")
        return try g.node(.reshape([batch, t, d]), [merged], name: "\(prefix).merge.flat")
    }

    static func pool(_ pooling: SentencePooling, _ g: GraphBuilder, _ x: ValueID, batch: Int, width: Int) throws -> ValueID {
        switch pooling {
        case .mean:
            return try g.node(.reduceMean(axis: 1, keepDims: false), [x], name: outputName)
        case .cls:
            let first = try g.node(.slice(axis: 1, start: 0, end: 1, step: 1), [x], name: "pooling.cls")
            return try g.node(.reshape([batch, width]), [first], name: outputName)
        }
    }
}

import OnboardCore
import OnboardGraph

/// Builds the graph of a Hugging Face `BertModel` encoder (post-LayerNorm blocks) followed by the
/// sentence-transformers pooling, for `batch` sequences of exactly `length` tokens.
///
/// Input `input_ids` [B, L] (i32); output `sentence_embedding` [B, D], pooled but not yet
/// L2-normalised. Token types are all 0 and positions start at 0, as sentence-transformers feeds
/// a single-segment text; `pooler.*` (BERT's tanh pooler) is not part of a sentence embedding.
public enum BertBuilder {
    public static let inputName = "input_ids"
    public static let outputName = "sentence_embedding"

    public static func build(config c: BertConfig, weights: WeightStore, batch: Int, length: Int, pooling: SentencePooling) throws -> Graph {
        let m = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let g = m.graph
        let ids = try g.input(inputName, shape: [batch, length], dtype: .i32)
        var x = try embeddings(c, m, ids, length: length)
        for index in 0..<c.numHiddenLayers {
            x = try layer(c, m, x, prefix: "encoder.layer.\(index)")
        }
        g.markOutput(try pool(pooling, g, x, batch: batch, width: c.hiddenSize))
        weights.discard("embeddings.position_ids")
        try weights.finish(ignoring: ["pooler."])
        return try g.build()
    }

    /// `BertEmbeddings`: word rows, plus the position rows 0..<L and token type 0 (one constant
    /// [1, L, D]), then LayerNorm.
    static func embeddings(_ c: BertConfig, _ m: ModuleBuilder, _ ids: ValueID, length: Int) throws -> ValueID {
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
        return try m.layerNorm("embeddings.LayerNorm", summed, epsilon: c.layerNormEps)
    }

    /// `BertLayer`: h = LN(x + attention(x)); y = LN(h + FFN(h)).
    static func layer(_ c: BertConfig, _ m: ModuleBuilder, _ x: ValueID, prefix: String) throws -> ValueID {
        let g = m.graph
        let context = try selfAttention(c, m, x, prefix: "\(prefix).attention.self")
        let projected = try m.linear("\(prefix).attention.output.dense", context, out: c.hiddenSize)
        let residual1 = try g.node(.add, [projected, x], name: "\(prefix).attention.output.residual")
        let h = try m.layerNorm("\(prefix).attention.output.LayerNorm", residual1, epsilon: c.layerNormEps)
        let hidden = try m.linear("\(prefix).intermediate.dense", h, out: c.intermediateSize)
        let activated = try g.node(.gelu(approximate: c.approximateGELU), [hidden], name: "\(prefix).intermediate.act")
        let output = try m.linear("\(prefix).output.dense", activated, out: c.hiddenSize)
        let residual2 = try g.node(.add, [output, h], name: "\(prefix).output.residual")
        return try m.layerNorm("\(prefix).output.LayerNorm", residual2, epsilon: c.layerNormEps)
    }

    /// `BertSelfAttention` without a mask (every token is real): heads concatenated [B, L, D].
    static func selfAttention(_ c: BertConfig, _ m: ModuleBuilder, _ x: ValueID, prefix: String) throws -> ValueID {
        let g = m.graph, d = c.hiddenSize, h = c.numAttentionHeads, hd = c.headDim
        let batch = g.shape(x)[0], t = g.shape(x)[1]
        func heads(_ name: String) throws -> ValueID {
            let projected = try m.linear("\(prefix).\(name)", x, out: d)
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

import Foundation
import OnboardCore

/// A Hugging Face `BertModel` as its own `config.json` describes it (all-MiniLM-L6-v2 and other
/// BERT-family sentence encoders): read directly from the model directory, no conversion step.
/// Keys the encoder does not use (dropout, `_name_or_path`, ...) are ignored.
public struct BertConfig: Decodable, Sendable, Equatable {
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    /// "gelu" (exact erf) or the tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    public var hiddenAct: String
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var positionEmbeddingType: String

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size", hiddenAct = "hidden_act", vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", positionEmbeddingType = "position_embedding_type"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
    }

    public var headDim: Int { hiddenSize / numAttentionHeads }
    /// Whether GELU is the tanh approximation.
    public var approximateGELU: Bool { hiddenAct != "gelu" }

    /// The `architectures` entries of a Hugging Face config this family reads.
    public static let huggingFaceClasses = ["BertModel"]

    /// Rejects configurations the builder cannot honour, naming the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ reason: String) -> OnboardError { .format(path: path, item: field, reason: reason) }
        for (field, value) in [("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                               ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
                               ("vocab_size", vocabSize), ("max_position_embeddings", maxPositionEmbeddings),
                               ("type_vocab_size", typeVocabSize)] {
            guard value >= 1, value <= 1 << 20 else { throw fail(field, "\(value) is outside 1...\(1 << 20)") }
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw fail("num_attention_heads", "\(numAttentionHeads) does not divide hidden_size \(hiddenSize)")
        }
        guard ["gelu", "gelu_new", "gelu_pytorch_tanh"].contains(hiddenAct) else {
            throw fail("hidden_act", "'\(hiddenAct)' is not supported (gelu, gelu_new, gelu_pytorch_tanh)")
        }
        guard positionEmbeddingType == "absolute" else {
            throw fail("position_embedding_type", "'\(positionEmbeddingType)' is not supported (absolute)")
        }
        guard layerNormEps.isFinite, layerNormEps > 0 else { throw fail("layer_norm_eps", "must be > 0") }
    }
}

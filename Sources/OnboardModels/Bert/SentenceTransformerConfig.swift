import Foundation
import OnboardCore

/// How sentence-transformers turns token embeddings into a sentence embedding.
public enum SentencePooling: String, Sendable, Equatable {
    /// The mean over real tokens, [CLS] and [SEP] included.
    case mean
    /// The [CLS] token's embedding.
    case cls
}

/// The sentence-transformers files of a model directory: `modules.json` (Transformer, Pooling,
/// optional Normalize), the pooling module's `config.json` and `sentence_bert_config.json`.
public struct SentenceTransformerConfig: Sendable, Equatable {
    public var pooling: SentencePooling
    /// Whether a `Normalize` module L2-normalises the pooled embedding.
    public var normalize: Bool
    /// Texts are truncated to this many tokens ([CLS] and [SEP] included).
    public var maxSequenceLength: Int
    public var doLowerCase: Bool

    public init(pooling: SentencePooling, normalize: Bool, maxSequenceLength: Int, doLowerCase: Bool) {
        self.pooling = pooling
        self.normalize = normalize
        self.maxSequenceLength = maxSequenceLength
        self.doLowerCase = doLowerCase
    }

    public static let transformerType = "sentence_transformers.models.Transformer"
    public static let poolingType = "sentence_transformers.models.Pooling"
    public static let normalizeType = "sentence_transformers.models.Normalize"

    private struct Module: Decodable { var path: String; var type: String }

    private struct PoolingFile: Decodable {
        var pooling_mode_cls_token: Bool?
        var pooling_mode_mean_tokens: Bool?
        var pooling_mode_max_tokens: Bool?
        var pooling_mode_mean_sqrt_len_tokens: Bool?
        var pooling_mode_weightedmean_tokens: Bool?
        var pooling_mode_lasttoken: Bool?
    }

    private struct TransformerFile: Decodable {
        var max_seq_length: Int?
        var do_lower_case: Bool?
    }

    /// Reads the files of `directory`; `modelLength` (max_position_embeddings) caps the length.
    public static func load(directory: String, modelLength: Int) throws -> SentenceTransformerConfig {
        func path(_ relative: String) -> String { (directory as NSString).appendingPathComponent(relative) }
        let modulesPath = path("modules.json")
        let modules = try JSONInput.decode([Module].self, from: try InputFile.read(modulesPath, what: "sentence-transformers modules file"),
                                           path: modulesPath)
        guard modules.first?.type == transformerType else {
            throw OnboardError.format(path: modulesPath, item: "[0].type", reason: "the first module must be \(transformerType)")
        }
        var pooling: SentencePooling?
        var normalize = false
        for (index, module) in modules.enumerated().dropFirst() {
            switch module.type {
            case poolingType:
                pooling = try readPooling(path("\(module.path)/config.json"))
            case normalizeType:
                normalize = true
            default:
                throw OnboardError.format(path: modulesPath, item: "[\(index)].type", reason: "module '\(module.type)' is not supported")
            }
        }
        guard let pooling else { throw OnboardError.format(path: modulesPath, item: nil, reason: "no \(poolingType) module") }
        let transformerPath = path("sentence_bert_config.json")
        let transformer = try JSONInput.decode(TransformerFile.self, from: try InputFile.read(transformerPath, what: "sentence-transformers config"),
                                               path: transformerPath)
        let length = transformer.max_seq_length ?? modelLength
        guard (2...modelLength).contains(length) else {
            throw OnboardError.format(path: transformerPath, item: "max_seq_length", reason: "\(length) is outside 2...\(modelLength)")
        }
        return SentenceTransformerConfig(pooling: pooling, normalize: normalize, maxSequenceLength: length,
                                         doLowerCase: transformer.do_lower_case ?? false)
    }

    private static func readPooling(_ path: String) throws -> SentencePooling {
        let file = try JSONInput.decode(PoolingFile.self, from: try InputFile.read(path, what: "pooling config"), path: path)
        let unsupported = [("pooling_mode_max_tokens", file.pooling_mode_max_tokens),
                           ("pooling_mode_mean_sqrt_len_tokens", file.pooling_mode_mean_sqrt_len_tokens),
                           ("pooling_mode_weightedmean_tokens", file.pooling_mode_weightedmean_tokens),
                           ("pooling_mode_lasttoken", file.pooling_mode_lasttoken)]
        if let (field, _) = unsupported.first(where: { $0.1 == true }) {
            throw OnboardError.format(path: path, item: field, reason: "is not supported (mean or cls pooling only)")
        }
        switch (file.pooling_mode_mean_tokens == true, file.pooling_mode_cls_token == true) {
        case (true, false): return .mean
        case (false, true): return .cls
        case (true, true):
            throw OnboardError.format(path: path, item: "pooling_mode_cls_token", reason: "with mean pooling is not supported (one mode only)")
        case (false, false):
            throw OnboardError.format(path: path, item: "pooling_mode_mean_tokens", reason: "no pooling mode is on")
        }
    }
}

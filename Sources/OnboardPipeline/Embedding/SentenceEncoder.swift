import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant
import OnboardText

/// A sentence-transformers model directory as users have it (a Hugging Face `BertModel`, its
/// tokenizer and the sentence-transformers module files), read without a conversion step.
public struct SentenceEncoder {
    public private(set) var bundle: ModelBundle
    public let config: BertConfig
    public let sentence: SentenceTransformerConfig
    public let tokenizer: WordPieceTokenizer
    /// Equivalent transforms the graphs are built with (a smoothing recipe's; nil: none).
    public var transforms: BertTransforms?

    /// The files every such directory must have (a quantized one adds quant.json).
    public static let requiredFiles = ["config.json", "model.safetensors", "vocab.txt", "modules.json", "sentence_bert_config.json"]

    public init(directory: String) throws {
        for file in Self.requiredFiles {
            let path = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else {
                throw OnboardError.io(path: path, reason: "missing: a sentence-transformers model directory needs \(Self.requiredFiles.joined(separator: ", "))")
            }
        }
        bundle = try ModelBundle(directory: directory)
        guard let config = bundle.model as? BertConfig else {
            throw OnboardError.format(path: bundle.configPath, item: "architecture",
                                      reason: "'\(type(of: bundle.model).configName)' is not a sentence encoder (BertModel)")
        }
        self.config = config
        sentence = try SentenceTransformerConfig.load(directory: directory, modelLength: config.maxPositionEmbeddings)
        tokenizer = try WordPieceTokenizer(directory: directory)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw OnboardError.format(path: (directory as NSString).appendingPathComponent("vocab.txt"), item: nil,
                                      reason: "\(tokenizer.vocabularySize) tokens, more than the model's vocab_size \(config.vocabSize)")
        }
    }

    /// The fine-tuned variant `base + delta`, merged once at load (`ModelBundle.apply(delta:)`).
    public mutating func apply(delta: String) throws -> DeltaFile.ApplyReport {
        try bundle.apply(delta: delta)
    }

    /// The encoder for `batch` sequences of exactly `length` tokens, with the pooling and transforms.
    public func graph(batch: Int, length: Int) throws -> Graph {
        try config.graph(of: bundle, batch: batch, length: length, pooling: sentence.pooling, transforms: transforms)
    }

    /// Token ids of each text as sentence-transformers feeds them (stripped, truncated to
    /// `max_seq_length`), and how many texts truncation cut.
    public func encode(_ texts: [String]) -> (ids: [[Int32]], truncated: Int) {
        var truncated = 0
        let ids = texts.map { text in
            let encoding = tokenizer.encode(text, maxLength: sentence.maxSequenceLength)
            if encoding.droppedPieces > 0 { truncated += 1 }
            return encoding.ids
        }
        return (ids, truncated)
    }
}

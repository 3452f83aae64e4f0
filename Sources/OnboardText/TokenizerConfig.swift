import Foundation
import OnboardCore

/// The fields of a Hugging Face `tokenizer_config.json` that a BERT WordPiece tokenizer uses,
/// with transformers' `BertTokenizer` defaults for those a file leaves out (or for a directory
/// without the file, which transformers loads too). Other fields are ignored (`never_split` only
/// affects the slow Python tokenizer; `model_max_length` is not the sentence-transformers length).
public struct TokenizerConfig: Equatable, Sendable {
    public var doLowerCase = true
    /// nil: follow `doLowerCase` (as transformers and tokenizers do).
    public var stripAccents: Bool?
    public var tokenizeChineseChars = true
    public var unkToken = "[UNK]"
    public var clsToken = "[CLS]"
    public var sepToken = "[SEP]"
    public var padToken = "[PAD]"
    public var maskToken = "[MASK]"

    public init() {}

    /// Whether accents are stripped (NFD, then nonspacing marks dropped).
    public var stripsAccents: Bool { stripAccents ?? doLowerCase }

    /// The special tokens the tokenizer finds in raw text before normalizing it.
    public var specialTokens: [String] { [padToken, unkToken, clsToken, sepToken, maskToken] }

    /// `path`, or the defaults if there is no file there.
    public static func read(_ path: String) throws -> TokenizerConfig {
        guard FileManager.default.fileExists(atPath: path) else { return TokenizerConfig() }
        return try parse(try InputFile.read(path, what: "tokenizer config"), path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> TokenizerConfig {
        let file = try JSONInput.decode(File.self, from: data, path: path)
        if file.do_basic_tokenize == false {
            throw OnboardError.format(path: path, item: "do_basic_tokenize",
                                      reason: "false is not supported (only the BERT basic tokenizer + WordPiece)")
        }
        var config = TokenizerConfig()
        if let value = file.do_lower_case { config.doLowerCase = value }
        config.stripAccents = file.strip_accents
        if let value = file.tokenize_chinese_chars { config.tokenizeChineseChars = value }
        let tokens: [(String, SpecialToken?, WritableKeyPath<TokenizerConfig, String>)] = [
            ("unk_token", file.unk_token, \.unkToken), ("cls_token", file.cls_token, \.clsToken),
            ("sep_token", file.sep_token, \.sepToken), ("pad_token", file.pad_token, \.padToken),
            ("mask_token", file.mask_token, \.maskToken),
        ]
        for (key, token, field) in tokens {
            guard let token else { continue }
            guard !token.content.isEmpty else { throw OnboardError.format(path: path, item: key, reason: "empty token") }
            config[keyPath: field] = token.content
        }
        return config
    }

    /// The file's layout; `Decodable` gives errors that name the field (JSONInput).
    private struct File: Decodable {
        var do_lower_case: Bool?
        var strip_accents: Bool?
        var tokenize_chinese_chars: Bool?
        var do_basic_tokenize: Bool?
        var unk_token: SpecialToken?
        var cls_token: SpecialToken?
        var sep_token: SpecialToken?
        var pad_token: SpecialToken?
        var mask_token: SpecialToken?
    }

    /// A special token: a string, or transformers' serialized `AddedToken` (`{"content": ...}`).
    private struct SpecialToken: Decodable {
        var content: String

        private enum Keys: String, CodingKey { case content }

        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                content = text
            } else if let object = try? decoder.container(keyedBy: Keys.self) {
                content = try object.decode(String.self, forKey: .content)
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                    debugDescription: "neither a string nor an added token"))
            }
        }
    }
}

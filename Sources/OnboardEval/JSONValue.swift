import Foundation
import OnboardCore

/// A parsed JSON document. Unlike Foundation's JSONSerialization it accepts the tokens `NaN`,
/// `Infinity` and `-Infinity` that Python's `json` module writes (the devkit's metrics files and
/// results files can contain them) and keeps booleans apart from numbers.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Later duplicate keys replace earlier ones, as in Python's `json.load`.
    case object([String: JSONValue])

    public var number: Double? { if case let .number(value) = self { return value } else { return nil } }
    public var string: String? { if case let .string(value) = self { return value } else { return nil } }
    public var array: [JSONValue]? { if case let .array(value) = self { return value } else { return nil } }
    public var object: [String: JSONValue]? { if case let .object(value) = self { return value } else { return nil } }

    /// Short name of the value's kind for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Reads and parses a file; errors name `path` and the byte offset.
    public static func parse(file path: String) throws -> JSONValue {
        let data = try InputFile.read(path)
        return try parse(bytes: [UInt8](data), path: path)
    }

    public static func parse(bytes: [UInt8], path: String) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes, path: path)
        return try parser.parseDocument()
    }
}

/// Recursive-descent parser over UTF-8 bytes (RFC 8259 plus Python's non-finite number tokens).
/// Besides whole documents it can walk an object's members or an array's elements one at a time, so
/// large files (results) are decoded without holding their whole tree.
struct JSONParser {
    let bytes: [UInt8]
    let path: String
    var position = 0
    var depth = 0
    static let maxDepth = 256

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    mutating func parseDocument() throws -> JSONValue {
        let value = try parseValue()
        try finish()
        return value
    }

    func error(_ reason: String) -> OnboardError {
        OnboardError.format(path: path, item: "byte \(position)", reason: "invalid JSON: \(reason)")
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func consume(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard position + utf8.count <= bytes.count, Array(bytes[position..<position + utf8.count]) == utf8 else {
            return false
        }
        position += utf8.count
        return true
    }

    mutating func parseValue() throws -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): if consume("true") { return .bool(true) }
        case UInt8(ascii: "f"): if consume("false") { return .bool(false) }
        case UInt8(ascii: "n"): if consume("null") { return .null }
        case UInt8(ascii: "N"): if consume("NaN") { return .number(.nan) }
        case UInt8(ascii: "I"): if consume("Infinity") { return .number(.infinity) }
        default: return .number(try parseNumber())
        }
        throw error("unknown literal")
    }

    mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
    }

    /// The next non-blank byte, without consuming it (nil at the end).
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Throws unless only whitespace is left.
    mutating func finish() throws {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
    }

    /// Walks an object (the next value must be one): `body` gets each key and must consume its value.
    mutating func parseObjectMembers(_ body: (String, inout JSONParser) throws -> Void) throws {
        try enter()
        defer { depth -= 1 }
        guard try opens("{", closing: "}", "an object") else { return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a key string") }
            let key = try parseString()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            try body(key, &self)
            guard try continues(closing: "}", inside: "object") else { return }
        }
    }

    /// Walks an array (the next value must be one): `body` must consume each element.
    mutating func parseArrayElements(_ body: (inout JSONParser) throws -> Void) throws {
        try enter()
        defer { depth -= 1 }
        guard try opens("[", closing: "]", "an array") else { return }
        while true {
            try body(&self)
            guard try continues(closing: "]", inside: "array") else { return }
        }
    }

    /// Consumes the opening bracket; false when the container is empty (its closing bracket consumed too).
    mutating func opens(_ opening: Unicode.Scalar, closing: Unicode.Scalar, _ container: String) throws -> Bool {
        guard peek() == UInt8(ascii: opening) else { throw error("expected \(container)") }
        position += 1
        if peek() == UInt8(ascii: closing) { position += 1; return false }
        return true
    }

    /// After a member or element: consumes ',' (true) or the closing bracket (false).
    mutating func continues(closing: Unicode.Scalar, inside container: String) throws -> Bool {
        let next = peek()
        if next == UInt8(ascii: ",") { position += 1; return true }
        if next == UInt8(ascii: closing) { position += 1; return false }
        throw error(next == nil ? "unterminated \(container)" : "expected ',' or '\(closing)'")
    }

    mutating func parseObject() throws -> JSONValue {
        var members: [String: JSONValue] = [:]
        try parseObjectMembers { key, parser in members[key] = try parser.parseValue() }
        return .object(members)
    }

    mutating func parseArray() throws -> JSONValue {
        var elements: [JSONValue] = []
        try parseArrayElements { parser in elements.append(try parser.parseValue()) }
        return .array(elements)
    }

    mutating func parseNumber() throws -> Double {
        if bytes[position] == UInt8(ascii: "-"), consume("-Infinity") { return -.infinity }
        let start = position
        func isNumberByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
        while position < bytes.count, isNumberByte(bytes[position]) { position += 1 }
        guard position > start, let text = String(bytes: bytes[start..<position], encoding: .utf8),
              let value = Double(text) else {
            position = start
            throw error("unexpected character")
        }
        return value
    }

    mutating func parseString() throws -> String {
        position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun(_ end: Int) throws {
            guard end > runStart else { return }
            guard let run = String(bytes: bytes[runStart..<end], encoding: .utf8) else { throw error("invalid UTF-8 in string") }
            scalars.append(contentsOf: run.unicodeScalars)
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                try flushRun(position)
                position += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte == UInt8(ascii: "\\") {
                try flushRun(position)
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try parseUnicodeEscape())
                default: throw error("invalid escape")
                }
                runStart = position
                continue
            }
            position += 1
        }
        throw error("unterminated string")
    }

    mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count, let text = String(bytes: bytes[position..<position + 4], encoding: .ascii),
              let value = UInt32(text, radix: 16) else { throw error("invalid \\u escape") }
        position += 4
        return value
    }

    /// A `\uXXXX` escape, joining UTF-16 surrogate pairs; a lone surrogate becomes U+FFFD.
    mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xD800..<0xDC00).contains(high), consume("\\u") {
            let low = try parseHex4()
            if (0xDC00..<0xE000).contains(low) {
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
            }
            return "\u{FFFD}"
        }
        return Unicode.Scalar(high) ?? "\u{FFFD}"
    }
}

/// Any key of a JSON object, for finding the keys a type does not know.
public struct AnyCodingKey: CodingKey {
    public let stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }

    /// Throws `dataCorrupted` at the first key of `decoder`'s object (sorted) that `Key` does not
    /// know, so a misspelt field is an error rather than silently ignored.
    public static func rejectUnknown<Key: CodingKey & CaseIterable>(_: Key.Type, in decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let unknown = container.allKeys.filter { Key(stringValue: $0.stringValue) == nil }
        if let key = unknown.min(by: { $0.stringValue < $1.stringValue }) {
            let known = Key.allCases.map(\.stringValue).sorted().joined(separator: ", ")
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "unknown field (known: \(known))")
        }
    }
}

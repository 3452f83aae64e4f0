import Foundation

/// The keys of a JSON object's top level, in file order, duplicates included: JSONSerialization
/// keeps one value per key silently, so a repeated key has to be found in the text itself.
enum JSONObjectKeys {
    /// The first key that occurs twice at the top level of `bytes` (a well-formed JSON object), or nil.
    static func firstDuplicate(in bytes: UnsafeRawBufferPointer) -> String? {
        var seen = Set<String>()
        var depth = 0, index = 0, expectKey = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectKey = depth == 1 && byte == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                expectKey = depth == 1
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectKey {
                    expectKey = false
                    let raw = Data(bytes[start...min(index, bytes.count - 1)])
                    let key = (try? JSONSerialization.jsonObject(with: raw, options: .fragmentsAllowed) as? String)
                        ?? String(decoding: raw, as: UTF8.self)
                    if !seen.insert(key).inserted { return key }
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }
}

import Foundation

/// JSON from a user's file, with errors that name the file, the field and the value: Foundation
/// reports a syntax error as "not in the correct format" and a number that does not fit its field
/// (4.5 for an integer, 1e40 for a Float) as "not valid JSON", naming neither.
public enum JSONInput {
    /// The parsed value; a syntax error names the position.
    public static func parse(_ data: Data, path: String) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
        } catch let error as NSError {
            let detail = (error.userInfo[NSDebugDescriptionErrorKey] as? String) ?? error.localizedDescription
            let (item, hint) = location(of: detail, in: data)
            throw OnboardError.format(path: path, item: item, reason: "invalid JSON: \(hint ?? detail)")
        }
    }

    /// "line L, column C" for Foundation's "around character N", with a hint for NaN and Infinity
    /// (which Python writes, but JSON has no such numbers).
    static func location(of detail: String, in data: Data) -> (item: String?, hint: String?) {
        guard let range = detail.range(of: "character "),
              let offset = Int(detail[range.upperBound...].prefix { $0.isNumber }), offset <= data.count else { return (nil, nil) }
        let before = data.prefix(offset)
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        let rest = String(decoding: data.dropFirst(offset).prefix(9), as: UTF8.self)
        let token = rest.prefix { $0 != "," && $0 != "]" && $0 != "}" }
        let hint = ["NaN", "Infinity", "-Infinity"].contains { token.hasPrefix($0) } ? "\(token) is not a JSON number" : nil
        return ("line \(line), column \(column)", hint)
    }

    /// `T` decoded from `data`; every failure is an `OnboardError.format` naming `path` and the field.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw describe(error, type: type, data: data, path: path)
        }
    }

    static func field(_ codingPath: [CodingKey], _ key: CodingKey? = nil) -> String? {
        let parts = (codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        guard !parts.isEmpty else { return nil }
        return parts.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func describe<T: Decodable>(_ error: DecodingError, type: T.Type, data: Data, path: String) -> OnboardError {
        switch error {
        case let .keyNotFound(key, context):
            return .format(path: path, item: field(context.codingPath, key), reason: "missing")
        case let .typeMismatch(expected, context):
            return .format(path: path, item: field(context.codingPath), reason: "wrong type (expected \(typeName(expected)))")
        case let .valueNotFound(expected, context):
            return .format(path: path, item: field(context.codingPath), reason: "null where \(typeName(expected)) is expected")
        case let .dataCorrupted(context) where !context.codingPath.isEmpty:
            // Foundation's text for an unknown enum case: "Cannot initialize T from invalid String value x".
            if let range = context.debugDescription.range(of: "from invalid String value ") {
                return .format(path: path, item: field(context.codingPath),
                               reason: "'\(context.debugDescription[range.upperBound...])' is not a valid value")
            }
            return .format(path: path, item: field(context.codingPath), reason: context.debugDescription)
        default:
            do {
                let tree = try parse(data, path: path)
                if let (item, value) = misfitNumber(in: tree, type: type) {
                    let reason = value.rounded() == value
                        ? "\(value) is out of range" : "\(value) is not a whole number (an integer is expected)"
                    return .format(path: path, item: item, reason: reason)
                }
                return .format(path: path, item: nil, reason: "invalid: \(error)")
            } catch {
                return error as? OnboardError ?? .format(path: path, item: nil, reason: "invalid JSON")
            }
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is UInt64.Type, is Int32.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            return "\(type)".hasPrefix("Array") ? "a list" : "an object"
        }
    }

    /// The number that keeps `tree` from decoding as `T`: each candidate (fractional, or beyond
    /// Float's or Int64's range) is replaced by 0 in turn until the decode gets past it.
    static func misfitNumber<T: Decodable>(in tree: Any, type: T.Type) -> (String, Double)? {
        var candidates: [([Any], Double)] = []
        func collect(_ value: Any, _ path: [Any]) {
            if let object = value as? [String: Any] {
                for key in object.keys.sorted() { collect(object[key]!, path + [key]) }
            } else if let array = value as? [Any] {
                for (i, element) in array.enumerated() { collect(element, path + [i]) }
            } else if let number = value as? NSNumber {
                let x = number.doubleValue
                if x.rounded() != x || abs(x) > Double(Int32.max) {
                    candidates.append((path, x))
                }
            }
        }
        collect(tree, [])
        // Out-of-range values first: a file of many fractional scales costs a decode per probe.
        let ordered = candidates.filter { $0.1.rounded() == $0.1 } + candidates.filter { $0.1.rounded() != $0.1 }
        for (path, value) in ordered.prefix(256) {
            let patched = replacing(tree, at: path[...], with: 0)
            guard let data = try? JSONSerialization.data(withJSONObject: patched, options: .fragmentsAllowed) else { continue }
            do {
                _ = try JSONDecoder().decode(type, from: data)
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                continue
            } catch {}
            let item = path.map { ($0 as? Int).map { "[\($0)]" } ?? ".\($0)" }.joined().drop { $0 == "." }
            return (String(item), value)
        }
        return nil
    }

    static func replacing(_ tree: Any, at path: ArraySlice<Any>, with value: Any) -> Any {
        guard let first = path.first else { return value }
        if var object = tree as? [String: Any], let key = first as? String, let child = object[key] {
            object[key] = replacing(child, at: path.dropFirst(), with: value)
            return object
        }
        if var array = tree as? [Any], let index = first as? Int, array.indices.contains(index) {
            array[index] = replacing(array[index], at: path.dropFirst(), with: value)
            return array
        }
        return tree
    }
}

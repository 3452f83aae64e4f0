import Foundation
@testable import OnboardGraph
import XCTest

/// docs/recipes.md is the one place the recipe keys are documented: its key table must list exactly
/// the keys `QuantizationRecipe` decodes, with defaults and values the decoder agrees with.
final class RecipeDocsTests: XCTestCase {
    /// One row of the key table: the key and its type and default cells, as written.
    struct Row {
        let key: String
        let type: String
        let defaultValue: String
    }

    static let recipesPage = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/recipes.md")

    func test_theKeyTableListsExactlyTheKeysTheDecoderAccepts() throws {
        let documented = Set(try Self.keyTable().map(\.key))
        let decoded = Set(QuantizationRecipe.CodingKeys.allCases.map(\.stringValue))
        XCTAssertEqual(documented.subtracting(decoded).sorted(), [], "documented in docs/recipes.md but not decoded")
        XCTAssertEqual(decoded.subtracting(documented).sorted(), [], "decoded but not documented in docs/recipes.md")
    }

    func test_aDefaultWrittenAsOneJSONValueIsTheDecodersDefault() throws {
        let none = try Self.decode("{}")
        for row in try Self.keyTable() {
            let spans = Self.codeSpans(row.defaultValue)
            guard spans.count == 1, row.defaultValue == "`\(spans[0])`" else { continue }
            XCTAssertEqual(try Self.decode("{\"\(row.key)\": \(spans[0])}"), none, "default of \(row.key)")
        }
    }

    func test_everyValueTheTypeColumnNamesIsAccepted() throws {
        for row in try Self.keyTable() {
            for value in Self.codeSpans(row.type) where value.hasPrefix("\"") {
                // On top of a stabilized softmax input, which every value of the other keys allows.
                let json = row.key == "softmax_input" ? "{\"softmax_input\": \(value)}"
                    : "{\"softmax_input\": \"stabilized\", \"\(row.key)\": \(value)}"
                XCTAssertNoThrow(try Self.decode(json), "\(row.key): \(value)")
            }
        }
    }

    static func decode(_ json: String) throws -> QuantizationRecipe {
        try JSONDecoder().decode(QuantizationRecipe.self, from: Data(json.utf8))
    }

    /// The rows of the table under the header `| key | type | default | meaning |`.
    static func keyTable() throws -> [Row] {
        let lines = try String(contentsOf: recipesPage, encoding: .utf8).components(separatedBy: "\n")
        guard let header = lines.firstIndex(where: { cells($0) == ["key", "type", "default", "meaning"] }) else {
            XCTFail("docs/recipes.md has no table headed | key | type | default | meaning |")
            return []
        }
        let rows = lines[(header + 2)...].prefix { $0.hasPrefix("|") }.map(cells)
        return rows.compactMap { cells in
            guard cells.count == 4, let key = codeSpans(cells[0]).first else {
                XCTFail("docs/recipes.md: malformed key row \(cells)")
                return nil
            }
            return Row(key: key, type: cells[1], defaultValue: cells[2])
        }
    }

    /// A table row's cells, trimmed; `\|` inside a cell is not a separator.
    static func cells(_ line: String) -> [String] {
        var cells: [String] = [], current = "", previous: Character = " "
        for character in line {
            if character == "|" && previous != "\\" {
                cells.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        return Array(cells.dropFirst())
    }

    /// The text of each `code span` in a cell.
    static func codeSpans(_ cell: String) -> [String] {
        let parts = cell.components(separatedBy: "`")
        return stride(from: 1, to: parts.count - 1, by: 2).map { parts[$0] }
    }
}

import Foundation
import OnboardCore

/// A text file of sentences, one per line (`onboard embed --text-file`): UTF-8, `\n` or `\r\n`
/// line ends, no empty line (each line is one row of the output, so a blank one is a mistake, not
/// a sentence). An error names the file and the line.
public enum SentenceFile {
    public static func read(_ path: String) throws -> [String] {
        try parse(try InputFile.read(path, what: "text file"), path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> [String] {
        var lines = Array(data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false))
        if lines.last?.isEmpty == true { lines.removeLast() }  // the final line's own end
        guard !lines.isEmpty else { throw OnboardError.format(path: path, item: nil, reason: "no sentences (the file is empty)") }
        var sentences: [String] = []
        sentences.reserveCapacity(lines.count)
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            let item = "line \(index + 1)"
            guard let text = String(validating: line, as: UTF8.self) else {
                throw OnboardError.format(path: path, item: item, reason: "not valid UTF-8")
            }
            guard !text.allSatisfy(\.isWhitespace) else {
                throw OnboardError.format(path: path, item: item, reason: "empty line (each line is one sentence)")
            }
            sentences.append(text)
        }
        return sentences
    }
}

import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

/// `onboard embed` on the real all-MiniLM-L6-v2 as users have it, and on bad input.
final class EmbedCommandTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("embed-cli") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func test_fp32EqualsSentenceTransformersAndSaysWhatItTruncated() throws {
        let out = "\(directory)/emb.safetensors"
        let result = try Onboard.run(["embed", "--model", try TestPaths.requireMiniLM(), "--text-file", TestPaths.fixture("text/minilm_reference.txt"),
                                      "--out", out, "--batch", "4", "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.components(separatedBy: "longer than 256 tokens").count - 1, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("1 of 30 sentences"), result.stderr)
        let embeddings = try SafeTensorsFile(path: out).tensor("embeddings")
        let expected = try SafeTensorsFile(path: TestPaths.fixture("text/minilm_reference.safetensors")).tensor("embeddings")
        XCTAssertEqual(embeddings.shape, [30, 384])
        let (a, b) = (embeddings.floats(), expected.floats())
        var worst: Float = 1
        for row in 0..<30 {
            var dot: Float = 0
            for j in row * 384..<(row + 1) * 384 { dot += a[j] * b[j] }
            worst = min(worst, dot)
        }
        XCTAssertGreaterThanOrEqual(worst, 0.99999)
    }

    func test_badTextFilesNameTheLineAndWriteNothing() throws {
        let out = "\(directory)/emb.safetensors"
        try Data("kept".utf8).write(to: URL(fileURLWithPath: out))
        let cases: [(String, Data, String)] = [
            ("empty.txt", Data(), "empty.txt: no sentences (the file is empty)"),
            ("blank.txt", Data("one\n\nthree\n".utf8), "blank.txt: line 2: empty line"),
            ("latin1.txt", Data([0x6F, 0x6B, 0x0A, 0x63, 0x61, 0x66, 0xE9, 0x0A]), "latin1.txt: line 2: not valid UTF-8"),
        ]
        for (name, bytes, message) in cases {
            let path = "\(directory)/\(name)"
            try bytes.write(to: URL(fileURLWithPath: path))
            assertUserError(try Onboard.run(["embed", "--model", try TestPaths.requireMiniLM(), "--text-file", path, "--out", out]),
                            status: 1, contains: message)
            XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "kept")
        }
    }

    func test_incompleteOrForeignModelDirectoriesAreNamed() throws {
        let text = "\(directory)/s.txt"
        try Data("a sentence\n".utf8).write(to: URL(fileURLWithPath: text))
        let real = try TestPaths.requireMiniLM()
        func linkedCopy(_ name: String, without: String) throws -> String {
            let copy = "\(directory)/\(name)"
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: real) where file != without {
                try FileManager.default.createSymbolicLink(atPath: "\(copy)/\(file)", withDestinationPath: "\(real)/\(file)")
            }
            return copy
        }
        let noVocab = try linkedCopy("no-vocab", without: "vocab.txt")
        assertUserError(try Onboard.run(["embed", "--model", noVocab, "--text-file", text, "--out", "\(directory)/a.safetensors"]),
                        status: 1, contains: "no-vocab/vocab.txt: missing")
        let gpt = try linkedCopy("gpt", without: "config.json")
        try Data(#"{"architectures": ["GPT2Model"], "model_type": "gpt2"}"#.utf8).write(to: URL(fileURLWithPath: "\(gpt)/config.json"))
        assertUserError(try Onboard.run(["embed", "--model", gpt, "--text-file", text, "--out", "\(directory)/b.safetensors"]),
                        status: 1, contains: "gpt/config.json: architectures: [\"GPT2Model\"] is not supported")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/a.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/b.safetensors"))
    }

    func test_recipeWithoutInt8IsAUsageError() throws {
        let result = try Onboard.run(["embed", "--model", "m", "--text-file", "t", "--out", "o", "--recipe", "r.json"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("--recipe needs --precision int8 or int8-integer"), result.stderr)
    }
}

import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Hostile inputs to the core readers: special files, sizes that overflow or exceed memory, JSON
/// that Foundation reports without a field, duplicate tensor names.
final class InputLimitsTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("input-limits") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func test_aFIFOOrADirectoryIsRefusedInsteadOfBlocking() throws {
        XCTAssertEqual(mkfifo(path("pipe.safetensors"), 0o600), 0)
        XCTAssertEqual(message { _ = try SafeTensorsFile(path: self.path("pipe.safetensors")) },
                       "\(path("pipe.safetensors")): file is a FIFO, not a regular file")
        XCTAssertEqual(message { _ = try InputFile.read(self.path("pipe.safetensors"), what: "recipe") },
                       "\(path("pipe.safetensors")): recipe is a FIFO, not a regular file")
        XCTAssertEqual(message { _ = try InputFile.read(self.directory, what: "board file") },
                       "\(directory): board file is a directory, not a regular file")
        XCTAssertEqual(message { _ = try InputFile.read(self.path("absent.json")) },
                       "\(path("absent.json")): cannot read file: No such file or directory")
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path("a.txt")))
        XCTAssertEqual(try InputFile.read(path("a.txt")), Data("abc".utf8))
    }

    func test_sizesThatOverflowOrExceedMemoryAreErrorsBeforeAllocation() {
        XCTAssertEqual(MemoryLimit.product([3, 4, 5]), 60)
        XCTAssertNil(MemoryLimit.product([1 << 62, 4]))
        XCTAssertNil(MemoryLimit.product([-1, 4]))
        XCTAssertEqual(message { try MemoryLimit.requireAllocatable([1 << 62, 4], item: "head.num_query", path: "c.json") },
                       "c.json: head.num_query: a tensor of shape [4611686018427387904, 4] has more elements than can be addressed")
        let huge = message { try MemoryLimit.requireAllocatable([1 << 20, 1 << 20, 64], item: "image_size") }
        XCTAssertTrue(huge.hasPrefix("image_size: a tensor of shape [1048576, 1048576, 64] needs 281474976710656 bytes, more than this machine's"), huge)
        XCTAssertNoThrow(try MemoryLimit.requireAllocatable([1024, 1024], item: "x"))
    }

    func test_aTensorNamedTwiceInTheHeaderIsRefused() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 8)
        try Data(bytes).write(to: URL(fileURLWithPath: path("dup.safetensors")))
        XCTAssertEqual(message { _ = try SafeTensorsFile(path: self.path("dup.safetensors")) },
                       "\(path("dup.safetensors")): a: the header names this tensor more than once")
    }

    struct Config: Decodable {
        struct Head: Decodable { var depth: Int; var eps: Float }
        var head: Head
        var names: [String]
    }

    func decodeMessage(_ json: String) -> String {
        message { _ = try JSONInput.decode(Config.self, from: Data(json.utf8), path: "c.json") }
    }

    func test_jsonErrorsNameTheFieldAndTheValue() {
        XCTAssertEqual(decodeMessage(#"{"head":{"depth":4.5,"eps":1},"names":[]}"#),
                       "c.json: head.depth: 4.5 is not a whole number (an integer is expected)")
        XCTAssertEqual(decodeMessage(#"{"head":{"depth":4,"eps":1e40},"names":[]}"#), "c.json: head.eps: 1e+40 is out of range")
        XCTAssertEqual(decodeMessage(#"{"head":{"depth":4,"eps":1},"names":[1]}"#), "c.json: names[0]: wrong type (expected a string)")
        XCTAssertEqual(decodeMessage(#"{"head":{"eps":1},"names":[]}"#), "c.json: head.depth: missing")
        XCTAssertEqual(decodeMessage("{\"head\":{\"depth\":4,\n\"eps\":NaN},\"names\":[]}"),
                       "c.json: line 2, column 7: invalid JSON: NaN is not a JSON number")
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertTrue(decodeMessage(deep).contains("invalid JSON: Too many nested arrays or dictionaries"), decodeMessage(deep))
    }
}

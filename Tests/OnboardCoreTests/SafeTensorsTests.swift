import Foundation
import OnboardCore
import OnboardTestSupport
import XCTest

final class SafeTensorsTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("safetensors") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    func test_roundTripKeepsValuesTypesAndMetadata() throws {
        let floats = try Tensor(shape: [2, 3], values: [1, -2.5, 3, 0, 1e-20, -7])
        let bytes = try Tensor(shape: [4], dtype: .i8, integers: [-128, -1, 0, 127])
        let words = try Tensor(shape: [1, 2], dtype: .i32, integers: [Int32.min, 42])
        try SafeTensorsWriter.write([("w", floats), ("q", bytes), ("idx", words)],
                                    metadata: ["producer": "test \"quoted\""], to: path("a.safetensors"))
        let file = try SafeTensorsFile(path: path("a.safetensors"))
        XCTAssertEqual(file.names, ["w", "q", "idx"])
        XCTAssertEqual(file.metadata, ["producer": "test \"quoted\""])
        XCTAssertEqual(try file.tensor("w").floats(), [1, -2.5, 3, 0, 1e-20, -7])
        XCTAssertEqual(try file.tensor("q").dtype, .i8)
        XCTAssertEqual(try file.tensor("q").floats(), [-128, -1, 0, 127])
        XCTAssertEqual(try file.tensor("idx").floats(), [Float(Int32.min), 42])
        XCTAssertEqual(try file.tensor("idx").shape, [1, 2])
    }

    /// Weights a kernel has copied go back to the system (the mapping's resident bytes fall), and
    /// the tensor still reads the file's values; a page written in memory keeps its bytes.
    func test_releasedMappedPagesLeaveTheValuesReadable() throws {
        let count = 4 << 20, page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let codes = try Tensor(shape: [count], dtype: .i8, integers: (0..<count).map { $0 % 251 - 125 })
        try SafeTensorsWriter.write([("w", codes)], to: path("big.safetensors"))
        // On disk, as a bundle is: dirty page-cache pages are not reclaimed before writeback.
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path("big.safetensors")))
        try handle.synchronize()
        try handle.close()
        let w = try SafeTensorsFile(path: path("big.safetensors")).tensor("w")
        let bytes = w.rawPointer.assumingMemoryBound(to: Int8.self)
        var sum = 0
        for i in 0..<count { sum += Int(bytes[i]) }
        bytes[page * 100] = 7
        let before = try XCTUnwrap(ResidentMemory.current()).mappedWeightsBytes
        w.releaseMappedPages()
        let after = try XCTUnwrap(ResidentMemory.current()).mappedWeightsBytes
        XCTAssertGreaterThanOrEqual(before, count - 2 * page, "sum \(sum)")
        XCTAssertLessThan(after, before - count / 2)
        XCTAssertEqual(bytes[page * 100], 7)
        let wrong = (0..<count).first { $0 != page * 100 && Int(bytes[$0]) != $0 % 251 - 125 }
        XCTAssertNil(wrong)
    }

    func test_halfPrecisionStorageIsWidenedToF32OnLoad() throws {
        let values: [Float] = [0, 1, -2, 0.1, 65504, 1e-6, -3.14159]
        let tensor = try Tensor(shape: [7], values: values)
        try SafeTensorsWriter.write([("h", tensor), ("b", tensor)], storeAs: ["h": .f16, "b": .bf16], to: path("h.safetensors"))
        let file = try SafeTensorsFile(path: path("h.safetensors"))
        XCTAssertEqual(file.entry("h")?.dtype, .f16)
        XCTAssertEqual(file.entry("b")?.dtype, .bf16)
        let half = try file.tensor("h"), brain = try file.tensor("b")
        XCTAssertEqual(half.dtype, .f32)
        for (i, v) in values.enumerated() {
            XCTAssertEqual(half.element(at: i), Float(Float16(v)), "f16 element \(i)")
            XCTAssertEqual(brain.element(at: i), v, accuracy: abs(v) / 128, "bf16 element \(i)")
        }
    }

    func test_emptyTensorsAndZeroSizedDimensions() throws {
        try SafeTensorsWriter.write([("e", Tensor(zeros: [0, 4])), ("s", try Tensor(shape: [], values: [5]))], to: path("e.safetensors"))
        let file = try SafeTensorsFile(path: path("e.safetensors"))
        XCTAssertEqual(try file.tensor("e").shape, [0, 4])
        XCTAssertEqual(try file.tensor("s").floats(), [5])
    }

    // MARK: - malformed files: each a typed error naming the file (and tensor)

    /// A file from a header text and a data section.
    func craft(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) throws -> String {
        var bytes: [UInt8] = []
        var length = (lengthOverride ?? UInt64(header.utf8.count)).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: data)
        let file = path("bad-\(UUID().uuidString).safetensors")
        try AtomicFile(path: file).write(bytes: bytes)
        return file
    }

    func assertFormatError(_ file: String, item: String?, contains text: String, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(path: file), line: line) { error in
            guard case let OnboardError.format(path, errorItem, reason) = error else {
                return XCTFail("unexpected error \(error)", line: line)
            }
            XCTAssertEqual(path, file, line: line)
            XCTAssertEqual(errorItem, item, line: line)
            XCTAssertTrue(reason.contains(text), "'\(reason)' lacks '\(text)'", line: line)
        }
    }

    func test_rejectsTruncatedAndOversizedHeaders() throws {
        let tiny = path("tiny.safetensors")
        try AtomicFile(path: tiny).write(bytes: [1, 2, 3])
        assertFormatError(tiny, item: nil, contains: "too short")
        assertFormatError(try craft("{}", lengthOverride: 1000), item: nil, contains: "exceeds the file size")
        assertFormatError(try craft("{\"a\": [", data: []), item: nil, contains: "not a JSON object")
        assertFormatError(try craft("[1, 2]"), item: nil, contains: "not a JSON object")
    }

    func test_rejectsBadEntries() throws {
        let data = [UInt8](repeating: 0, count: 16)
        assertFormatError(try craft(#"{"t":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#, data: data), item: "t", contains: "unsupported dtype F64")
        assertFormatError(try craft(#"{"t":{"shape":[4],"data_offsets":[0,16]}}"#, data: data), item: "t", contains: "missing dtype")
        assertFormatError(try craft(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, data: data), item: "t", contains: "span holds 16")
        assertFormatError(try craft(#"{"t":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#, data: data), item: "t", contains: "non-negative")
        assertFormatError(try craft(#"{"t":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}"#, data: data), item: "t", contains: "outside the data section")
        assertFormatError(try craft(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}"#, data: data), item: "t", contains: "begin <= end")
        assertFormatError(try craft(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0]}}"#, data: data), item: "t", contains: "data_offsets")
        assertFormatError(try craft(#"{"t":"nope"}"#, data: data), item: "t", contains: "not an object")
        assertFormatError(try craft(#"{"__metadata__":{"k":1}}"#), item: "__metadata__.k", contains: "strings")
        assertFormatError(try craft(#"{"t":{"dtype":"F32","shape":[99999999999,99999999999,99999999999],"data_offsets":[0,16]}}"#, data: data),
                          item: "t", contains: "too large")
    }

    func test_rejectsOverlappingSpans() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertFormatError(try craft(header, data: [UInt8](repeating: 0, count: 12)), item: "b", contains: "overlaps tensor 'a'")
    }

    func test_missingFileAndMissingTensorAreErrors() throws {
        XCTAssertThrowsError(try SafeTensorsFile(path: path("absent.safetensors"))) { error in
            guard case OnboardError.io = error else { return XCTFail("\(error)") }
        }
        try SafeTensorsWriter.write([("a", Tensor(zeros: [1]))], to: path("one.safetensors"))
        let file = try SafeTensorsFile(path: path("one.safetensors"))
        XCTAssertThrowsError(try file.tensor("b")) { error in
            XCTAssertEqual("\(error)", "\(path("one.safetensors")): b: no such tensor")
        }
    }

    func test_unalignedDataIsCopiedNotMisread() throws {
        // Header of odd length: the data section starts at an unaligned offset.
        let floats: [Float] = [1.5, -2.25]
        let data = floats.withUnsafeBytes { Array($0) }
        let file = try craft(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} "#, data: data)
        XCTAssertEqual(try SafeTensorsFile(path: file).tensor("t").floats(), [1.5, -2.25])
    }

    func test_writerRefusesDuplicateNamesAndLeavesNoFile() throws {
        let target = path("dup.safetensors")
        XCTAssertThrowsError(try SafeTensorsWriter.write([("a", Tensor(zeros: [1])), ("a", Tensor(zeros: [1]))], to: target))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }
}

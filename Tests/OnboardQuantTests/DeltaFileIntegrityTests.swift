import Foundation
import OnboardCore
@testable import OnboardQuant
import OnboardTestSupport
import XCTest

/// Delta files carry checksums: a changed index, scale or stream byte is refused before anything is
/// decoded, a record that does not fit the base is refused even with a valid checksum, older
/// version 1 to 3 files still apply (a version 3 file written by Onboard is a fixture), and a ratio
/// that keeps nothing is an error.
final class DeltaFileIntegrityTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("delta-integrity") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// One [128, 64] matrix `w` whose every row changed (large enough for the file's headers at 8x).
    func writeModels(deltaScale: Float = 0.01) throws {
        var random = TestRandom(seed: 3)
        let base = random.floats(128 * 64, scale: 0.1)
        let tuned = base.map { $0 + random.generator.nextGaussian() * deltaScale }
        try SafeTensorsWriter.write([("w", try Tensor(shape: [128, 64], values: base))], to: path("base.safetensors"))
        try SafeTensorsWriter.write([("w", try Tensor(shape: [128, 64], values: tuned))], to: path("tuned.safetensors"))
        _ = try DeltaFile.compress(base: path("base.safetensors"), finetuned: path("tuned.safetensors"), ratio: 8, out: path("delta.safetensors"))
    }

    /// The version 3 fixture (Tests/Fixtures/delta-v3, tools/make_delta_v3_fixture.sh): its base,
    /// fine-tuned weights and delta copied to the test's directory.
    func copyVersionThree() throws {
        for name in ["base", "tuned", "delta"] {
            try? FileManager.default.removeItem(atPath: path("\(name).safetensors"))
            try FileManager.default.copyItem(atPath: TestPaths.fixture("delta-v3/\(name).safetensors"), toPath: path("\(name).safetensors"))
        }
    }

    /// The version 3 delta's tensors with `edit` applied to the header's i64 values, written to `name`.
    func rewrite(_ name: String, header edit: (inout [Int64]) -> Void, stream streamEdit: (inout [UInt8]) -> Void = { _ in },
                 format: String? = nil) throws {
        let file = try SafeTensorsFile(path: path("delta.safetensors"))
        let header = try file.tensor("w.deltadq_header"), stream = try file.tensor("w.deltadq_stream")
        var values = (0..<header.count).map { header.rawPointer.load(fromByteOffset: $0 * 8, as: Int64.self) }
        var bytes = (0..<stream.count).map { stream.rawPointer.load(fromByteOffset: $0, as: UInt8.self) }
        edit(&values)
        streamEdit(&bytes)
        try SafeTensorsWriter.write([("w.deltadq_header", try Tensor(shape: [values.count], dtype: .i64, integers: values)),
                                     ("w.deltadq_scales", try file.tensor("w.deltadq_scales")),
                                     ("w.deltadq_stream", try Tensor(shape: [bytes.count], dtype: .u8, integers: bytes))],
                                    metadata: file.metadata.merging(format.map { ["format": $0] } ?? [:]) { $1 }
                                        .filter { format == nil || !$0.key.hasPrefix("content") },
                                    storeAs: ["w.deltadq_scales": .f16], to: path(name))
    }

    func applyMessage(_ delta: String) -> String {
        do {
            _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path(delta), out: path("out.safetensors"))
            return "applied"
        } catch {
            return "\(error)".replacingOccurrences(of: directory + "/", with: "")
        }
    }

    func test_aTamperedVersionThreeHeaderOrStreamIsRefusedByTheChecksum() throws {
        try copyVersionThree()
        XCTAssertEqual(applyMessage("delta.safetensors"), "applied")
        try rewrite("bits.safetensors", header: { $0[2] = $0[2] == 4 ? 3 : 4 })
        XCTAssertEqual(applyMessage("bits.safetensors"), "bits.safetensors: w: checksum mismatch: the header, scales or stream were changed or damaged")
        try rewrite("stream.safetensors", header: { _ in }, stream: { $0[0] ^= 0x5a })
        XCTAssertEqual(applyMessage("stream.safetensors"), "stream.safetensors: w: checksum mismatch: the header, scales or stream were changed or damaged")
        try rewrite("width.safetensors", header: { $0[2] = 1 << 62 })
        XCTAssertEqual(applyMessage("width.safetensors"),
                       "width.safetensors: w: invalid DeltaDQ configuration: group size \(try groupSize()), bits 4611686018427387904 (1 or 2...8), split bits \(try header()[3]), keep \(try keep()) per group")
        try writeModels()
        _ = try writeVersionOne("streambits.safetensors", streamBits: .max)
        XCTAssertTrue(applyMessage("streambits.safetensors").hasPrefix("streambits.safetensors: w: header stream bits 9223372036854775807 do not match the"))
    }

    /// The version 4 delta's entries with `edit` applied to one of them, the content checksum
    /// recomputed when `resign` (as a forger would), written to `name`.
    func rewritePacked(_ name: String, entry: String, resign: Bool, _ edit: (inout [UInt8]) -> Void) throws {
        let file = try SafeTensorsFile(path: path("delta.safetensors"))
        let entries = try file.names.sorted().map { item -> (name: String, tensor: Tensor) in
            let tensor = try file.tensor(item)
            guard item == entry else { return (item, tensor) }
            var bytes = (0..<tensor.count).map { tensor.rawPointer.load(fromByteOffset: $0, as: UInt8.self) }
            edit(&bytes)
            return (item, try Tensor(shape: [bytes.count], dtype: .u8, integers: bytes))
        }
        var metadata = file.metadata
        if resign { metadata["content_checksum"] = "\(DeltaChecksum.of(entries: entries))" }
        try SafeTensorsWriter.write(entries, metadata: metadata, storeAs: ["deltadq.scales": .f16], to: path(name))
    }

    func test_aTamperedVersionFourFileIsRefusedBeforeAnythingIsDecoded() throws {
        try writeModels()
        XCTAssertEqual(try SafeTensorsFile(path: path("delta.safetensors")).names.sorted(), ["deltadq.index", "deltadq.scales", "deltadq.stream"])
        XCTAssertEqual(applyMessage("delta.safetensors"), "applied")
        let refused = "__metadata__.content_checksum: checksum mismatch: tensors were added, removed or changed"
        for entry in ["deltadq.index", "deltadq.stream"] {
            try rewritePacked("edited.safetensors", entry: entry, resign: false) { $0[$0.count - 1] ^= 0x21 }
            XCTAssertEqual(applyMessage("edited.safetensors"), "edited.safetensors: \(refused)", entry)
        }
    }

    /// What the checksum cannot catch (a forger recomputes it): every record is still checked
    /// against the base and the stream before it is used.
    func test_aForgedVersionFourRecordIsRefusedNamingIt() throws {
        try writeModels()
        // The index of `w`: skip 0, kind 0, group, bits, split, keep, selection, stream bits (one byte each but the last).
        try rewritePacked("skip.safetensors", entry: "deltadq.index", resign: true) { $0[0] = 1 }
        XCTAssertEqual(applyMessage("skip.safetensors"), "skip.safetensors: deltadq.index record 0: names no tensor of the base base.safetensors")
        try rewritePacked("bits.safetensors", entry: "deltadq.index", resign: true) { $0[3] = 9 }
        XCTAssertTrue(applyMessage("bits.safetensors").hasPrefix("bits.safetensors: deltadq.index record 0: w: invalid DeltaDQ configuration: group size"))
        try rewritePacked("cut.safetensors", entry: "deltadq.index", resign: true) { $0.removeLast() }
        XCTAssertEqual(applyMessage("cut.safetensors"), "cut.safetensors: deltadq.index record 0: truncated or malformed record")
        try rewritePacked("huge.safetensors", entry: "deltadq.index", resign: true) { $0 = Array($0.prefix(7)) + [0xff, 0xff, 0xff, 0x7f] }
        XCTAssertTrue(applyMessage("huge.safetensors").hasPrefix("huge.safetensors: deltadq.index record 0: w: stream bits 268435455 do not fit the stream's "))
        try rewritePacked("kind.safetensors", entry: "deltadq.index", resign: true) { $0[1] = 2 }
        XCTAssertEqual(applyMessage("kind.safetensors"), "kind.safetensors: deltadq.index record 0: truncated or malformed record")
        try rewritePacked("copy.safetensors", entry: "deltadq.index", resign: true) { $0 = [0, 1, 0] }
        XCTAssertEqual(applyMessage("copy.safetensors"),
                       "copy.safetensors: deltadq.index record 0: w: shares the delta of record 0, which is not an earlier tensor of its shape")
        try rewritePacked("extra.safetensors", entry: "deltadq.stream", resign: true) { $0.append(0) }
        XCTAssertEqual(applyMessage("extra.safetensors"), "extra.safetensors: deltadq.index: 0 scales and 1 stream bytes belong to no record")
        try rewritePacked("rows.safetensors", entry: "deltadq.stream", resign: true) { $0[0] = 0 }
        XCTAssertEqual(applyMessage("rows.safetensors"), "rows.safetensors: deltadq.index: 8 scales and 0 stream bytes belong to no record")
    }

    func test_aFileThatDoesNotSayItIsADeltaIsRefused() throws {
        try copyVersionThree()
        try rewrite("renamed.safetensors", header: { _ in }, format: "onboArd-deltadq-v2")
        XCTAssertEqual(applyMessage("renamed.safetensors"),
                       "renamed.safetensors: __metadata__.format: 'onboArd-deltadq-v2' is not an Onboard delta (expected onboard-deltadq-v1 to onboard-deltadq-v4)")
        try rewrite("future.safetensors", header: { _ in }, format: "onboard-deltadq-v5")
        XCTAssertTrue(applyMessage("future.safetensors").hasPrefix("future.safetensors: __metadata__.format: 'onboard-deltadq-v5' is not"))
    }

    func header() throws -> [Int64] {
        let header = try SafeTensorsFile(path: path("delta.safetensors")).tensor("w.deltadq_header")
        return (0..<header.count).map { header.rawPointer.load(fromByteOffset: $0 * 8, as: Int64.self) }
    }
    func groupSize() throws -> Int64 { try header()[1] }
    func keep() throws -> Int64 { try header()[4] }

    /// A version 1 file of w's delta (no checksum, no row bitmap, positions per part), and the
    /// weights it restores.
    func writeVersionOne(_ name: String, streamBits: Int64? = nil) throws -> [Float] {
        let base = try SafeTensorsFile(path: path("base.safetensors")).tensor("w").floats()
        let tuned = try SafeTensorsFile(path: path("tuned.safetensors")).tensor("w").floats()
        let encoded = try DeltaDQ.encode(zip(tuned, base).map { $0 - $1 }, rows: 128, cols: 64,
                                         config: DeltaDQ.Config(groupSize: 16, bits: 4, splitBits: 1, keepPerGroup: 4))
        let header: [Int64] = [1, 16, 4, 1, 4, 0, 128, 64, streamBits ?? Int64(encoded.streamBits), 2, 128, 64]
        try SafeTensorsWriter.write([("w.deltadq_header", try Tensor(shape: [header.count], dtype: .i64, integers: header)),
                                     ("w.deltadq_scales", try Tensor(shape: [128], values: encoded.scales)),
                                     ("w.deltadq_stream", try Tensor(shape: [encoded.stream.count], dtype: .u8, integers: encoded.stream))],
                                    metadata: ["format": "onboard-deltadq-v1"], storeAs: ["w.deltadq_scales": .f16], to: path(name))
        return zip(base, try DeltaDQ.decode(encoded)).map { $0 + $1 }
    }

    func test_versionOneFilesWithoutAChecksumStillApplyToTheSameWeights() throws {
        try writeModels()
        let expected = try writeVersionOne("v1.safetensors")
        _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path("v1.safetensors"), out: path("v1-out.safetensors"))
        XCTAssertEqual(try SafeTensorsFile(path: path("v1-out.safetensors")).tensor("w").floats(), expected)
    }

    func test_aVersionThreeFileStillAppliesAndItsHeadersSayVersionThree() throws {
        try copyVersionThree()
        XCTAssertEqual(try header()[0], 3)
        let report = try DeltaFile.apply(base: path("base.safetensors"), delta: path("delta.safetensors"), out: path("v3-out.safetensors"))
        XCTAssertEqual(report.ratio, Double(2 * (64 * 64 + 64)) / 2064, accuracy: 1e-9)
        let applied = try SafeTensorsFile(path: path("v3-out.safetensors")), base = try SafeTensorsFile(path: path("base.safetensors"))
        let tuned = try SafeTensorsFile(path: path("tuned.safetensors"))
        XCTAssertEqual(try applied.tensor("bias").floats(), try base.tensor("bias").floats())
        let a = try applied.tensor("w").floats(), b = try base.tensor("w").floats(), t = try tuned.tensor("w").floats()
        let error = zip(a, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, delta = zip(t, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        // The error compress reported when it wrote the fixture: 0.268 of the delta.
        XCTAssertEqual((error / delta).squareRoot(), 0.268, accuracy: 0.001)
        try rewrite("v4.safetensors", header: { $0[0] = 4 })
        XCTAssertEqual(applyMessage("v4.safetensors"), "v4.safetensors: w: unsupported DeltaDQ format version 4")
    }

    func test_aRatioThatKeepsNoValueIsAnError() throws {
        try writeModels()
        XCTAssertThrowsError(try DeltaFile.compress(base: path("base.safetensors"), finetuned: path("tuned.safetensors"),
                                                    ratio: 1e6, out: path("none.safetensors"))) { error in
            XCTAssertEqual("\(error)", "\(self.path("tuned.safetensors")): compression ratio 1000000.0 keeps no delta value in any tensor (the file's headers and row scales alone reach it)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("none.safetensors")))
    }

    func test_aRowBeyondF16NamesTheFileAndTensor() throws {
        try SafeTensorsWriter.write([("w", try Tensor(shape: [64, 64], values: [Float](repeating: 0, count: 4096)))], to: path("b.safetensors"))
        try SafeTensorsWriter.write([("w", try Tensor(shape: [64, 64], values: [Float](repeating: 1e30, count: 4096)))], to: path("t.safetensors"))
        XCTAssertThrowsError(try DeltaFile.compress(base: path("b.safetensors"), finetuned: path("t.safetensors"), ratio: 2, out: path("o.safetensors"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(self.path("t.safetensors")): w: row 0: delta values up to "), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("e+29 exceed what f16 row scales can hold") || "\(error)".hasSuffix("e+30 exceed what f16 row scales can hold"))
        }
    }
}

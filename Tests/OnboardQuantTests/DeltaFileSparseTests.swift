import Foundation
import OnboardCore
import OnboardQuant
import OnboardTestSupport
import XCTest

/// Deltas (version 3 and later) spend bits only where the fine-tune changed something, carry non-float tensors,
/// meet the ratio on the file's size on disk, and refuse another base, a removed entry or a cut file.
final class DeltaFileSparseTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("delta-sparse") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// An "embedding" [512, 64] of which rows 0, 8, 16, ... changed, a fully changed [128, 64] matrix,
    /// an unchanged bias, and int64 ids (changed by `idsChange`).
    func writeModels(changedEmbeddingRows: Int = 64, idsChange: Int64 = 0, baseSeed: UInt64 = 5) throws {
        var random = TestRandom(seed: baseSeed)
        let embedding = random.floats(512 * 64, scale: 0.1), w = random.floats(128 * 64, scale: 0.1), bias = random.floats(64)
        var noise = TestRandom(seed: 9)
        var tunedEmbedding = embedding
        for r in stride(from: 0, to: 512, by: 512 / changedEmbeddingRows) {
            for c in 0..<64 { tunedEmbedding[r * 64 + c] += noise.generator.nextGaussian() * 0.01 }
        }
        let tunedW = w.map { $0 + noise.generator.nextGaussian() * 0.01 }
        func write(_ e: [Float], _ m: [Float], ids: [Int64], to name: String) throws {
            try SafeTensorsWriter.write([("embedding", try Tensor(shape: [512, 64], values: e)), ("w", try Tensor(shape: [128, 64], values: m)),
                                         ("bias", try Tensor(shape: [64], values: bias)),
                                         ("ids", try Tensor(shape: [1, 4], dtype: .i64, integers: ids))], to: path(name))
        }
        try write(embedding, w, ids: [0, 1, 2, 3], to: "base.safetensors")
        try write(tunedEmbedding, tunedW, ids: [0, 1, 2, 3 + idsChange], to: "tuned.safetensors")
    }

    func compress(_ ratio: Double, out: String = "delta.safetensors") throws -> DeltaFile.Report {
        try DeltaFile.compress(base: path("base.safetensors"), finetuned: path("tuned.safetensors"), ratio: ratio, out: path(out))
    }

    func applyMessage(_ delta: String, base: String = "base.safetensors") -> String {
        do {
            _ = try DeltaFile.apply(base: path(base), delta: path(delta), out: path("out.safetensors"))
            return "applied"
        } catch {
            return "\(error)".replacingOccurrences(of: directory + "/", with: "")
        }
    }

    func test_unchangedRowsAndTensorsCostNothingAndStayExact() throws {
        try writeModels(changedEmbeddingRows: 32)
        let sparse = try compress(16)
        // The ratio is counted on the file on disk: 2 bytes per float value over its size.
        let floatValues = 512 * 64 + 128 * 64 + 64
        let size = try FileManager.default.attributesOfItem(atPath: path("delta.safetensors"))[.size] as? Int ?? 0
        XCTAssertEqual(sparse.fileBytes, size)
        XCTAssertEqual(sparse.ratio, Double(2 * floatValues) / Double(size), accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(sparse.ratio, 16)
        let byName = Dictionary(uniqueKeysWithValues: sparse.tensors.map { ($0.name, $0) })
        XCTAssertEqual(byName["embedding"]?.changedRows, 32)
        XCTAssertEqual(byName["bias"]?.kind, "unchanged")
        XCTAssertEqual(byName["ids"]?.kind, "unchanged")
        XCTAssertEqual(try SafeTensorsFile(path: path("delta.safetensors")).names.filter { $0.hasPrefix("bias") || $0.hasPrefix("ids") }, [])
        XCTAssertEqual(byName["embedding"]?.relativeError ?? 1, byName["w"]?.relativeError ?? 0, accuracy: 0.1)
        _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path("delta.safetensors"), out: path("applied.safetensors"))
        let applied = try SafeTensorsFile(path: path("applied.safetensors")), base = try SafeTensorsFile(path: path("base.safetensors"))
        let tuned = try SafeTensorsFile(path: path("tuned.safetensors"))
        let a = try applied.tensor("embedding").floats(), b = try base.tensor("embedding").floats(), t = try tuned.tensor("embedding").floats()
        for r in 0..<512 where r % 16 != 0 {
            XCTAssertEqual(Array(a[(r * 64)..<(r * 64 + 64)]), Array(b[(r * 64)..<(r * 64 + 64)]), "row \(r)")
        }
        let error = (0..<64).reduce(0) { $0 + (a[$1] - t[$1]) * (a[$1] - t[$1]) }, delta = (0..<64).reduce(0) { $0 + (t[$1] - b[$1]) * (t[$1] - b[$1]) }
        XCTAssertLessThan(error, 0.5 * delta)
        XCTAssertEqual(try applied.tensor("bias").floats(), try base.tensor("bias").floats())
        XCTAssertEqual(applied.names.sorted(), base.names.sorted())
        // The same ratio with every embedding row changed: the budget spreads over 4x more values.
        try writeModels(changedEmbeddingRows: 512)
        let dense = try compress(16, out: "dense.safetensors")
        XCTAssertGreaterThanOrEqual(dense.ratio, 16)
        XCTAssertGreaterThan(dense.changedRatio, 3 * sparse.changedRatio)
        XCTAssertGreaterThan(dense.tensors.first { $0.name == "w" }?.relativeError ?? 0, 1.2 * (byName["w"]?.relativeError ?? 1))
    }

    func test_aChangedNonFloatTensorIsCarriedAsItIs() throws {
        try writeModels(idsChange: 7)
        let report = try compress(8)
        XCTAssertEqual(report.tensors.first { $0.name == "ids" }?.kind, "carried")
        _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path("delta.safetensors"), out: path("applied.safetensors"))
        let ids = try SafeTensorsFile(path: path("applied.safetensors")).tensor("ids")
        XCTAssertEqual(ids.dtype, .i64)
        XCTAssertEqual((0..<4).map { ids.rawPointer.load(fromByteOffset: $0 * 8, as: Int64.self) }, [0, 1, 2, 10])
    }

    func test_aDeltaOfAnotherBaseIsRefusedAndNothingIsWritten() throws {
        try writeModels()
        _ = try compress(8)
        try FileManager.default.moveItem(atPath: path("base.safetensors"), toPath: path("first-base.safetensors"))
        try writeModels(baseSeed: 6)
        let message = applyMessage("delta.safetensors")
        XCTAssertTrue(message.hasPrefix("delta.safetensors: __metadata__.base_fingerprint: made from another base ("), message)
        XCTAssertTrue(message.hasSuffix("; base.safetensors is \(DeltaFingerprint.of(try SafeTensorsFile(path: path("base.safetensors"))))"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.safetensors")))
        XCTAssertEqual(applyMessage("delta.safetensors", base: "first-base.safetensors"), "applied")
    }

    func test_aRemovedEntryOrACutFileIsRefused() throws {
        try writeModels()
        _ = try compress(8)
        let file = try SafeTensorsFile(path: path("delta.safetensors"))
        let kept = file.entries.filter { $0.name != "deltadq.stream" }.map { ($0.name, file.tensor($0)) }
        try SafeTensorsWriter.write(kept, metadata: file.metadata, to: path("removed.safetensors"))
        XCTAssertEqual(applyMessage("removed.safetensors"),
                       "removed.safetensors: __metadata__.content_checksum: checksum mismatch: tensors were added, removed or changed")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("delta.safetensors")))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path("cut.safetensors")))
        XCTAssertTrue(applyMessage("cut.safetensors").hasPrefix("cut.safetensors"), applyMessage("cut.safetensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.safetensors")))
    }

    func test_halfPrecisionModelsAreCompressedNotCarried() throws {
        try writeModels(changedEmbeddingRows: 8)
        for name in ["base", "tuned"] {
            let file = try SafeTensorsFile(path: path("\(name).safetensors"))
            try SafeTensorsWriter.write(file.entries.map { ($0.name, file.tensor($0)) }, storeAs: ["embedding": .f16, "w": .f16, "bias": .f16],
                                        to: path("\(name)16.safetensors"))
        }
        let report = try DeltaFile.compress(base: path("base16.safetensors"), finetuned: path("tuned16.safetensors"), ratio: 16,
                                            out: path("delta16.safetensors"))
        let kinds = Dictionary(uniqueKeysWithValues: report.tensors.map { ($0.name, $0.kind) })
        XCTAssertEqual(kinds, ["embedding": "deltadq", "w": "deltadq", "bias": "unchanged", "ids": "unchanged"])
        let size = try FileManager.default.attributesOfItem(atPath: path("delta16.safetensors"))[.size] as? Int ?? 0
        XCTAssertEqual(report.ratio, Double(2 * (512 * 64 + 128 * 64 + 64)) / Double(size), accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(report.ratio, 16)
        let applied = try DeltaFile.apply(base: path("base16.safetensors"), delta: path("delta16.safetensors"), out: path("applied16.safetensors"))
        XCTAssertEqual(applied.ratio, report.ratio, accuracy: 1e-9)
        let merged = try SafeTensorsFile(path: path("applied16.safetensors")).tensor("w").floats()
        let base = try SafeTensorsFile(path: path("base16.safetensors")).tensor("w").floats()
        let tuned = try SafeTensorsFile(path: path("tuned16.safetensors")).tensor("w").floats()
        let error = zip(merged, tuned).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let energy = zip(tuned, base).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        XCTAssertLessThan(error, 0.5 * energy)
    }

    func test_anUnchangedModelGivesAnEmptyDeltaThatAppliesToTheBase() throws {
        try writeModels()
        let report = try DeltaFile.compress(base: path("base.safetensors"), finetuned: path("base.safetensors"), ratio: 16, out: path("empty.safetensors"))
        XCTAssertTrue(report.tensors.allSatisfy { $0.kind == "unchanged" })
        XCTAssertEqual(try SafeTensorsFile(path: path("empty.safetensors")).names, [])
        _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path("empty.safetensors"), out: path("same.safetensors"))
        XCTAssertEqual(try SafeTensorsFile(path: path("same.safetensors")).tensor("w").floats(),
                       try SafeTensorsFile(path: path("base.safetensors")).tensor("w").floats())
    }

    /// A tied copy of a weight (the same delta twice) is stored once and restored twice, and a small
    /// changed vector is kept at 8 bits however high the ratio.
    func test_tiedWeightsAreStoredOnceAndSmallTensorsKeptAtEightBits() throws {
        var random = TestRandom(seed: 21)
        let w = random.floats(128 * 64, scale: 0.1), bias = random.floats(64, scale: 0.1)
        var noise = TestRandom(seed: 22)
        let tunedW = w.map { $0 + noise.generator.nextGaussian() * 0.01 }, tunedBias = bias.map { $0 + noise.generator.nextGaussian() * 0.01 }
        func write(_ m: [Float], _ b: [Float], to name: String) throws {
            try SafeTensorsWriter.write([("w", try Tensor(shape: [128, 64], values: m)), ("w_tied", try Tensor(shape: [128, 64], values: m)),
                                         ("bias", try Tensor(shape: [64], values: b))], to: path(name))
        }
        try write(w, bias, to: "base.safetensors")
        try write(tunedW, tunedBias, to: "tuned.safetensors")
        let report = try compress(8)
        let byName = Dictionary(uniqueKeysWithValues: report.tensors.map { ($0.name, $0) })
        XCTAssertEqual(byName["w"]?.kind, "deltadq")
        XCTAssertEqual(byName["w_tied"]?.kind, "copy")
        XCTAssertEqual(byName["w_tied"]?.relativeError, byName["w"]?.relativeError)
        XCTAssertEqual(byName["bias"]?.bits, 8)
        XCTAssertLessThan(byName["bias"]?.relativeError ?? 1, 0.01)
        // The budget of both copies goes to one: w is restored about as well as in a model without
        // the tie in a file of the same size, and better than in one at the same ratio.
        try SafeTensorsWriter.write([("w", try Tensor(shape: [128, 64], values: w)), ("bias", try Tensor(shape: [64], values: bias))],
                                    to: path("untied-base.safetensors"))
        try SafeTensorsWriter.write([("w", try Tensor(shape: [128, 64], values: tunedW)), ("bias", try Tensor(shape: [64], values: tunedBias))],
                                    to: path("untied-tuned.safetensors"))
        func untiedError(_ ratio: Double) throws -> Double {
            try DeltaFile.compress(base: path("untied-base.safetensors"), finetuned: path("untied-tuned.safetensors"), ratio: ratio,
                                   out: path("untied.safetensors")).tensors.first { $0.name == "w" }?.relativeError ?? 0
        }
        let tiedError = byName["w"]?.relativeError ?? 1
        XCTAssertEqual(tiedError, try untiedError(Double(2 * (128 * 64 + 64)) / Double(report.fileBytes)), accuracy: 0.05)
        XCTAssertLessThan(tiedError, try untiedError(8) - 0.1)
        _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path("delta.safetensors"), out: path("applied.safetensors"))
        let applied = try SafeTensorsFile(path: path("applied.safetensors"))
        XCTAssertEqual(try applied.tensor("w_tied").floats(), try applied.tensor("w").floats())
        XCTAssertNotEqual(try applied.tensor("w").floats(), w)
    }
}

import Foundation
import OnboardCore
@testable import OnboardQuant
import OnboardTestSupport
import XCTest

/// The low-rank part of a delta: an exactly low-rank delta is restored to its codes' precision,
/// the factorisation is deterministic, the budget arithmetic is exact, and delta files use it where
/// it wins and refuse a record that does not fit.
final class LowRankDeltaTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("low-rank-delta") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// A [rows, cols] delta of rank `rank` (Gaussian factors), plus Gaussian noise of `noise`.
    func lowRankDelta(rows: Int, cols: Int, rank: Int, noise: Float = 0, seed: UInt64 = 1) -> [Float] {
        var random = TestRandom(seed: seed)
        let a = random.floats(rows * rank), b = random.floats(rank * cols)
        return (0..<(rows * cols)).map { i in
            let (r, c) = (i / cols, i % cols)
            return (0..<rank).reduce(0) { $0 + a[r * rank + $1] * b[$1 * cols + c] } * 0.01 + noise * random.generator.nextGaussian()
        }
    }

    func relativeError(_ restored: [Float], _ delta: [Float]) -> Double {
        let error = zip(restored, delta).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        return (error / delta.reduce(0.0) { $0 + Double($1 * $1) }).squareRoot()
    }

    func test_anExactlyLowRankDeltaIsRestoredToItsCodesPrecision() throws {
        let delta = lowRankDelta(rows: 96, cols: 40, rank: 3)
        let full = try LowRankDelta.encode(delta, rows: 96, cols: 40, rank: 3, bits: 8)
        XCTAssertLessThan(relativeError(try LowRankDelta.decode(full), delta), 0.02)
        XCTAssertEqual(full.payloadBits, 8 * 3 * (96 + 40) + 16 * (96 + 3))
        XCTAssertEqual(full.stream.count, (8 * 3 * (96 + 40) + 7) / 8)
        // One direction short: the error is that direction's share of the energy.
        XCTAssertGreaterThan(relativeError(try LowRankDelta.decode(try LowRankDelta.encode(delta, rows: 96, cols: 40, rank: 2, bits: 8)), delta), 0.1)
        let again = try LowRankDelta.encode(delta, rows: 96, cols: 40, rank: 3, bits: 8)
        XCTAssertEqual(again.stream, full.stream)
        XCTAssertEqual(again.scales, full.scales)
    }

    func test_theRankForABudgetIsTheLargestThatFits() {
        for budget in [100.0, 5_000, 40_000, 1e9] {
            let rank = LowRankDelta.rank(forBudget: budget, rows: 96, cols: 40, bits: 4)
            XCTAssertLessThanOrEqual(rank, 40)
            if rank > 0 { XCTAssertLessThanOrEqual(Double(LowRankDelta.payloadBits(rows: 96, cols: 40, rank: rank, bits: 4)), budget) }
            if rank < 40 { XCTAssertGreaterThan(Double(LowRankDelta.payloadBits(rows: 96, cols: 40, rank: rank + 1, bits: 4)), budget) }
        }
        XCTAssertEqual(LowRankDelta.rank(forBudget: 1e9, rows: 96, cols: 40, bits: 4), 40)
        XCTAssertEqual(LowRankDelta.rank(forBudget: 100, rows: 96, cols: 40, bits: 4), 0)
    }

    func test_aDamagedPartIsAnErrorNotATrap() throws {
        let part = try LowRankDelta.encode(lowRankDelta(rows: 32, cols: 16, rank: 2), rows: 32, cols: 16, rank: 2, bits: 4)
        let cut = LowRankDelta.Encoded(rows: 32, cols: 16, rank: 2, bits: 4, scales: part.scales, stream: Array(part.stream.dropLast()))
        XCTAssertThrowsError(try LowRankDelta.decode(cut))
        let wide = LowRankDelta.Encoded(rows: 32, cols: 16, rank: 2, bits: 9, scales: part.scales, stream: part.stream)
        XCTAssertThrowsError(try LowRankDelta.decode(wide))
        XCTAssertThrowsError(try LowRankDelta.encode([1, 2, 3, 4], rows: 2, cols: 2, rank: 3, bits: 4))
    }

    /// A model whose delta is nearly low rank: the file spends part of the budget on a rank part,
    /// restores the delta far better than DeltaDQ codes alone at the same ratio, and applies to the
    /// weights its report measured.
    func test_deltaFilesUseALowRankPartWhereItWins() throws {
        var random = TestRandom(seed: 4)
        let base = random.floats(256 * 64, scale: 0.1), delta = lowRankDelta(rows: 256, cols: 64, rank: 2, noise: 0.001)
        try SafeTensorsWriter.write([("w", try Tensor(shape: [256, 64], values: base))], to: path("base.safetensors"))
        try SafeTensorsWriter.write([("w", try Tensor(shape: [256, 64], values: zip(base, delta).map { $0 + $1 }))], to: path("tuned.safetensors"))
        func compress(lowRank: Bool, out: String) throws -> DeltaFile.TensorReport? {
            try DeltaFile.compress(base: path("base.safetensors"), finetuned: path("tuned.safetensors"), ratio: 16, out: path(out),
                                   lowRank: lowRank).tensors.first
        }
        let hybrid = try compress(lowRank: true, out: "hybrid.safetensors"), plain = try compress(lowRank: false, out: "plain.safetensors")
        XCTAssertNotNil(hybrid?.rank)
        XCTAssertNil(plain?.rank)
        XCTAssertLessThan(hybrid?.relativeError ?? 1, 0.5 * (plain?.relativeError ?? 0))
        _ = try DeltaFile.apply(base: path("base.safetensors"), delta: path("hybrid.safetensors"), out: path("applied.safetensors"))
        let applied = try SafeTensorsFile(path: path("applied.safetensors")).tensor("w").floats()
        XCTAssertEqual(relativeError(zip(applied, base).map { $0 - $1 }, delta), hybrid?.relativeError ?? 0, accuracy: 1e-4)
        // A forged record whose rank exceeds the tensor's columns is refused by name.
        let file = try SafeTensorsFile(path: path("hybrid.safetensors"))
        let entries = try file.names.sorted().map { name -> (name: String, tensor: Tensor) in
            guard name == "deltadq.index" else { return (name, try file.tensor(name)) }
            let index = try file.tensor(name)
            var bytes = (0..<index.count).map { index.rawPointer.load(fromByteOffset: $0, as: UInt8.self) }
            XCTAssertEqual(bytes[1], 2)
            bytes[2] = 65
            return (name, try Tensor(shape: [bytes.count], dtype: .u8, integers: bytes))
        }
        var metadata = file.metadata
        metadata["content_checksum"] = "\(DeltaChecksum.of(entries: entries))"
        try SafeTensorsWriter.write(entries, metadata: metadata, storeAs: ["deltadq.scales": .f16], to: path("forged.safetensors"))
        XCTAssertThrowsError(try DeltaFile.apply(base: path("base.safetensors"), delta: path("forged.safetensors"), out: path("x.safetensors"))) {
            XCTAssertEqual("\($0)".replacingOccurrences(of: self.directory + "/", with: ""),
                           "forged.safetensors: deltadq.index record 0: w: low-rank part of rank 65 at 4 bits for 256 rows of 64")
        }
    }
}

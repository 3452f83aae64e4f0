import Foundation
import OnboardCore

/// `onboard delta compress` / `apply` on safetensors files: one DeltaDQ stream per changed tensor.
///
/// Tensors are viewed as [shape[0], rest] (1-D and scalars as one row). Each changed float tensor's
/// stream starts with a bitmap of the rows whose delta is not zero (one bit a row, whole bytes);
/// only those rows have scales and values (group positions as a bitmap, or none when all are kept,
/// where that is cheaper; 1-bit sign codes allowed). A tensor with no change stores nothing, and a
/// changed non-float tensor (`N.carried`) is stored as it is. The budget (the target ratio of the
/// float values' 16-bit size, counted against the file's size on disk) is spread evenly over the
/// changed values. The metadata holds the base's fingerprint (`DeltaFingerprint`, so that a delta is
/// never applied to another base, which is also what makes an absent tensor mean "unchanged") and a
/// checksum over every stored entry (`content_checksum`).
///
/// Version 4 (written now) packs every tensor's record, scales and stream into three entries
/// (`DeltaFile+Packed.swift`). Versions 1 to 3 (still read) store `N.deltadq_header` (i64: format
/// version, group size, bits, split bits, keep per group, selection, rows, cols, stream bits, rank,
/// shape, then from version 2 an FNV-1a checksum over the header before it, the scales and the
/// stream), `N.deltadq_scales` (f16) and `N.deltadq_stream` (u8) per tensor; versions 1 and 2 have
/// every tensor and no row bitmap, version 1 no checksums.
public enum DeltaFile {
    static let version: Int64 = 4
    /// The last version with one header, scales and stream entry per tensor.
    static let perTensorVersion: Int64 = 3
    static let headerSuffix = ".deltadq_header", scalesSuffix = ".deltadq_scales", streamSuffix = ".deltadq_stream"
    /// A non-float tensor (e.g. int64 `position_ids`) the fine-tune changed, stored as it is.
    static let carriedSuffix = ".carried"
    static let fingerprintKey = "base_fingerprint", contentKey = "content_checksum"

    public struct TensorReport: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var groupSize: Int
        public var bits: Int
        public var keepPerGroup: Int
        public var ratio: Double
        /// Rows whose delta is not zero (only those cost bits); 0 for an unchanged or carried tensor.
        public var changedRows: Int
        /// "deltadq", "copy" (its delta is an earlier tensor's, stored once), "unchanged" (stores
        /// nothing), "carried" (a changed non-float tensor, as it is) or "dropped" (too small for
        /// the budget: its delta is left out).
        public var kind: String
        /// ||Δ̂ - Δ|| / ||Δ|| (0 for an unchanged tensor).
        public var relativeError: Double
        /// max |F2 - F|.
        public var maxAbsError: Double
        /// How a "deltadq" tensor's kept values were chosen ("magnitude" or "seeded").
        public var selection: String? = nil
        /// The rank of a "deltadq" tensor's low-rank part (nil: none; the DeltaDQ codes then hold
        /// the whole delta, else the residual).
        public var rank: Int? = nil
    }

    public struct Report: Codable, Equatable, Sendable {
        public var targetRatio: Double
        /// The float values' 16-bit size over the delta file's size on disk (every byte counted).
        public var ratio: Double
        /// Bits of values, indices, part counts, row bitmaps and scales (the file adds headers).
        public var payloadBits: Int
        public var fileBytes: Int
        /// The ratio each changed value was compressed at (the budget spread over changed rows only).
        public var changedRatio: Double
        public var tensors: [TensorReport]
    }

    public struct AppliedTensor: Codable, Equatable, Sendable {
        public var name: String
        public var ratio: Double
        /// Largest |Δ̂| added to the base tensor.
        public var maxAbsDelta: Double
    }

    public struct ApplyReport: Codable, Equatable, Sendable {
        /// The delta file's compression ratio: payload bits for version 1 and 2 files, the file's
        /// size on disk from version 3 (as `Report.ratio`).
        public var ratio: Double
        public var tensors: [AppliedTensor]
    }

    /// The file says what it is in its metadata (`format`: onboard-deltadq-v1 to -v4).
    @discardableResult
    static func requireDeltaFormat(_ file: SafeTensorsFile) throws -> Int64 {
        let format = file.metadata["format"] ?? ""
        let prefix = "onboard-deltadq-v"
        guard format.hasPrefix(prefix), let stated = Int64(format.dropFirst(prefix.count)), (1...version).contains(stated) else {
            throw OnboardError.format(path: file.path, item: "__metadata__.format",
                                      reason: "'\(format)' is not an Onboard delta (expected \(prefix)1 to \(prefix)\(version))")
        }
        return stated
    }

    /// A tensor's DeltaDQ stream and, from version 3, the rows it covers (nil: every row).
    static func readEncoded(_ file: SafeTensorsFile, _ name: String, expectedShape: [Int],
                            basePath: String) throws -> (encoded: DeltaDQ.Encoded, rows: [Int]?) {
        func fail(_ reason: String) -> OnboardError { .format(path: file.path, item: name, reason: reason) }
        let header = try file.tensor(name + headerSuffix)
        guard header.dtype == .i64, header.count >= 10 else { throw fail("malformed DeltaDQ header") }
        var stored = (0..<header.count).map { header.rawPointer.load(fromByteOffset: $0 * 8, as: Int64.self) }
        guard (1...perTensorVersion).contains(stored[0]) else { throw fail("unsupported DeltaDQ format version \(stored[0])") }
        guard stored.count >= (stored[0] >= 2 ? 11 : 10) else { throw fail("malformed DeltaDQ header") }
        let checksum = stored[0] >= 2 ? stored.removeLast() : nil
        let h = stored.map { Int($0) }
        guard h[9] == h.count - 10, let selection = DeltaDQ.Selection(rawValue: h[5]) else { throw fail("malformed DeltaDQ header") }
        let shape = Array(h[10...])
        // Compared before any size arithmetic: the base file's shape is validated, the header's is not.
        guard shape == expectedShape else {
            throw OnboardError.format(path: basePath, item: name, reason: "shape \(expectedShape) does not match the delta's \(shape)")
        }
        guard matrixView(shape) == (h[6], h[7]) else { throw fail("header shape \(shape) does not match rows \(h[6]) x cols \(h[7])") }
        let config = DeltaDQ.Config(groupSize: h[1], bits: h[2], splitBits: h[3], keepPerGroup: h[4], selection: selection, compact: h[0] >= 3)
        do { try config.validate(cols: h[7]) } catch {
            throw fail("invalid DeltaDQ configuration: group size \(h[1]), bits \(h[2]) (1 or 2...8), split bits \(h[3]), keep \(h[4]) per group")
        }
        guard file.contains(name + scalesSuffix), file.contains(name + streamSuffix) else { throw fail("scales or stream missing") }
        let scales = try file.tensor(name + scalesSuffix), stream = try file.tensor(name + streamSuffix)
        let bitmapBytes = h[0] >= 3 ? (h[6] + 7) / 8 : 0
        guard scales.dtype == .f32, scales.rank == 1, h[0] >= 3 || scales.count == h[6], stream.dtype == .u8, stream.count >= bitmapBytes else {
            throw fail("scales or stream have the wrong type or size")
        }
        let bytes = (0..<stream.count).map { stream.rawPointer.load(fromByteOffset: $0, as: UInt8.self) }
        guard scales.floats().allFinite else { throw fail("non-finite scale") }
        if let checksum, checksum != DeltaChecksum.of(header: stored, scales: scales.floats(), stream: bytes) {
            throw fail("checksum mismatch: the header, scales or stream were changed or damaged")
        }
        guard (0...8 * bytes.count).contains(h[8]), h[8] > 8 * (bytes.count - 1) || bytes.isEmpty else {
            throw fail("header stream bits \(h[8]) do not match the \(bytes.count)-byte stream")
        }
        guard bitmapBytes > 0 else {
            return (DeltaDQ.Encoded(config: config, rows: h[6], cols: h[7], scales: scales.floats(), stream: bytes, streamBits: h[8]), nil)
        }
        let rows = (0..<h[6]).filter { bytes[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
        guard scales.count == rows.count, h[8] >= 8 * bitmapBytes else {
            throw fail("\(scales.count) scales for the \(rows.count) changed rows of its row bitmap")
        }
        let encoded = DeltaDQ.Encoded(config: config, rows: rows.count, cols: h[7], scales: scales.floats(),
                                      stream: Array(bytes[bitmapBytes...]), streamBits: h[8] - 8 * bitmapBytes)
        return (encoded, rows)
    }

    static func requireSameTensors(_ base: SafeTensorsFile, _ tuned: SafeTensorsFile) throws {
        if let name = tuned.names.sorted().first(where: { !base.contains($0) }) {
            throw OnboardError.format(path: base.path, item: name, reason: "tensor missing (the fine-tuned \(tuned.path) has it)")
        }
        if let name = base.names.sorted().first(where: { !tuned.contains($0) }) {
            throw OnboardError.format(path: tuned.path, item: name, reason: "tensor missing (the base \(base.path) has it)")
        }
        for entry in tuned.entries.sorted(by: { $0.name < $1.name }) {
            let other = base.entry(entry.name)?.shape ?? []
            guard other == entry.shape else {
                throw OnboardError.format(path: tuned.path, item: entry.name, reason: "shape \(entry.shape) differs from the base's \(other)")
            }
        }
    }

    static func floats(_ file: SafeTensorsFile, _ name: String) throws -> [Float] {
        let tensor = try file.tensor(name)
        guard tensor.dtype.isFloat else {
            throw OnboardError.format(path: file.path, item: name, reason: "\(tensor.dtype) tensor; deltas need float weights")
        }
        try tensor.requireFinite(name: name, source: file.path)
        return tensor.floats()
    }

    static func matrixView(_ shape: [Int]) -> (rows: Int, cols: Int) {
        if shape.contains(0) { return (0, 1) }
        guard let first = shape.first, shape.count >= 2 else { return (1, max(shape.first ?? 1, 1)) }
        return (max(first, 1), max(shape.dropFirst().reduce(1, *), 1))
    }
}

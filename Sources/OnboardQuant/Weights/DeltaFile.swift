import Foundation
import OnboardCore

/// `onboard delta compress` / `apply` on safetensors files: one DeltaDQ stream per tensor.
///
/// A delta file stores, for every tensor N of the fine-tuned model, `N.deltadq_header` (i64: format
/// version, group size, bits, split bits, keep per group, selection, rows, cols, stream bits, rank, shape),
/// `N.deltadq_scales` (per-row scales, f16) and `N.deltadq_stream` (the packed bits, u8); from version 2
/// the header ends with an FNV-1a checksum over the header before it, the scales and the stream, so
/// a tampered or damaged file is refused instead of decoded into wrong weights. Tensors are
/// viewed as [shape[0], rest] (1-D and scalars as one row). A tensor too small to reach the target ratio
/// even with every value dropped (e.g. a 10-element bias at 16x: its 16-bit scale alone is 1/10 of it)
/// keeps no delta values; the report shows its ratio and error, and the overall ratio counts it.
public enum DeltaFile {
    /// Version 1 files (no checksum) are still read.
    static let version: Int64 = 2
    static let headerSuffix = ".deltadq_header", scalesSuffix = ".deltadq_scales", streamSuffix = ".deltadq_stream"

    public struct TensorReport: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var groupSize: Int
        public var bits: Int
        public var keepPerGroup: Int
        public var ratio: Double
        /// ||Δ̂ - Δ|| / ||Δ|| (0 for an unchanged tensor).
        public var relativeError: Double
        /// max |F2 - F|.
        public var maxAbsError: Double
    }

    public struct Report: Codable, Equatable, Sendable {
        public var targetRatio: Double
        /// 16 bits per delta value over payload bits (values, indices, part counts, scales), all tensors.
        public var ratio: Double
        public var payloadBits: Int
        public var tensors: [TensorReport]
    }

    public struct AppliedTensor: Codable, Equatable, Sendable {
        public var name: String
        public var ratio: Double
        /// Largest |Δ̂| added to the base tensor.
        public var maxAbsDelta: Double
    }

    public struct ApplyReport: Codable, Equatable, Sendable {
        /// The delta file's compression ratio (same accounting as `Report.ratio`).
        public var ratio: Double
        public var tensors: [AppliedTensor]
    }

    public static func compress(base: String, finetuned: String, ratio: Double, out: String) throws -> Report {
        guard ratio.isFinite, ratio >= 1 else { throw OnboardError.invalidArgument("compression ratio \(ratio) must be a number >= 1") }
        let baseFile = try SafeTensorsFile(path: base), tunedFile = try SafeTensorsFile(path: finetuned)
        try requireSameTensors(baseFile, tunedFile)
        var written: [(name: String, tensor: Tensor)] = [], storeAs: [String: DType] = [:]
        var reports: [TensorReport] = []
        var payload = 0, values = 0
        for entry in tunedFile.entries.sorted(by: { $0.name < $1.name }) {
            let name = entry.name
            let b = try floats(baseFile, name), f = try floats(tunedFile, name)
            let delta = zip(f, b).map { $0 - $1 }
            let (rows, cols) = matrixView(entry.shape)
            let encoded: DeltaDQ.Encoded
            if rows == 0 || DeltaDQ.keepForRatio(ratio, rows: rows, cols: cols, groupSize: cols, bits: 2, splitBits: 1) == nil {
                encoded = try DeltaDQ.encode(delta, rows: rows, cols: cols, config: DeltaDQ.Config(groupSize: cols, bits: 2, keepPerGroup: 0),
                                             item: "\(finetuned): \(name)")
            } else {
                encoded = try DeltaDQ.compress(delta, rows: rows, cols: cols, ratio: ratio, item: "\(finetuned): \(name)").encoded
            }
            let restored = try DeltaDQ.decode(encoded, item: "\(finetuned): \(name)")
            var errorSquared = 0.0, deltaSquared = 0.0, maxAbs = 0.0
            for i in delta.indices {
                let e = Double(restored[i]) - Double(delta[i])
                errorSquared += e * e
                deltaSquared += Double(delta[i]) * Double(delta[i])
                maxAbs = max(maxAbs, abs(Double(b[i] + restored[i]) - Double(f[i])))
            }
            reports.append(TensorReport(name: name, shape: entry.shape, groupSize: encoded.config.groupSize, bits: encoded.config.bits,
                                        keepPerGroup: encoded.config.keepPerGroup, ratio: encoded.ratio,
                                        relativeError: deltaSquared > 0 ? (errorSquared / deltaSquared).squareRoot() : errorSquared.squareRoot(),
                                        maxAbsError: maxAbs))
            payload += encoded.payloadBits
            values += rows * cols
            let c = encoded.config
            let header: [Int64] = [version, Int64(c.groupSize), Int64(c.bits), Int64(c.splitBits), Int64(c.keepPerGroup),
                                   Int64(c.selection.rawValue), Int64(rows), Int64(cols), Int64(encoded.streamBits),
                                   Int64(entry.shape.count)] + entry.shape.map(Int64.init)
            let checksum = DeltaChecksum.of(header: header, scales: encoded.scales, stream: encoded.stream)
            written.append((name + headerSuffix, try Tensor(shape: [header.count + 1], dtype: .i64, integers: header + [checksum])))
            written.append((name + scalesSuffix, try Tensor(shape: [rows], values: encoded.scales)))
            storeAs[name + scalesSuffix] = .f16
            written.append((name + streamSuffix, try Tensor(shape: [encoded.stream.count], dtype: .u8, integers: encoded.stream)))
        }
        if values > 0, reports.allSatisfy({ $0.keepPerGroup == 0 }) {
            throw OnboardError.invalidArgument("\(finetuned): compression ratio \(ratio) keeps no delta value in any tensor (the 16-bit row scales alone reach it)")
        }
        try SafeTensorsWriter.write(written, metadata: ["format": "onboard-deltadq-v\(version)", "target_ratio": "\(ratio)"], storeAs: storeAs, to: out)
        return Report(targetRatio: ratio, ratio: Double(16 * values) / Double(max(payload, 1)), payloadBits: payload, tensors: reports)
    }

    /// Writes `base + delta` to `out`.
    public static func apply(base: String, delta: String, out: String) throws -> ApplyReport {
        let baseFile = try SafeTensorsFile(path: base), deltaFile = try SafeTensorsFile(path: delta)
        try requireDeltaFormat(deltaFile)
        let names = deltaFile.names.filter { $0.hasSuffix(headerSuffix) }.map { String($0.dropLast(headerSuffix.count)) }.sorted()
        let missing = baseFile.names.filter { !names.contains($0) }.sorted()
        if let name = missing.first {
            throw OnboardError.format(path: delta, item: name, reason: "no delta for this tensor of \(base)")
        }
        var written: [(name: String, tensor: Tensor)] = []
        var applied: [AppliedTensor] = []
        var payload = 0, values = 0
        for name in names {
            guard let baseEntry = baseFile.entry(name) else {
                throw OnboardError.format(path: base, item: name, reason: "tensor missing (the delta \(delta) has it)")
            }
            let encoded = try readEncoded(deltaFile, name, expectedShape: baseEntry.shape, basePath: base)
            let shape = baseEntry.shape
            let restored = try DeltaDQ.decode(encoded, item: "\(delta): \(name)")
            let b = try floats(baseFile, name)
            written.append((name, try Tensor(shape: shape, values: zip(b, restored).map { $0 + $1 })))
            applied.append(AppliedTensor(name: name, ratio: encoded.ratio, maxAbsDelta: Double(restored.map { abs($0) }.max() ?? 0)))
            payload += encoded.payloadBits
            values += encoded.rows * encoded.cols
        }
        try SafeTensorsWriter.write(written, to: out)
        return ApplyReport(ratio: Double(16 * values) / Double(max(payload, 1)), tensors: applied)
    }

    /// The file says what it is in its metadata (`format`: onboard-deltadq-v1 or -v2).
    private static func requireDeltaFormat(_ file: SafeTensorsFile) throws {
        let format = file.metadata["format"] ?? ""
        let prefix = "onboard-deltadq-v"
        guard format.hasPrefix(prefix), let stated = Int64(format.dropFirst(prefix.count)), (1...version).contains(stated) else {
            throw OnboardError.format(path: file.path, item: "__metadata__.format",
                                      reason: "'\(format)' is not an Onboard delta (expected \(prefix)1 to \(prefix)\(version))")
        }
    }

    private static func readEncoded(_ file: SafeTensorsFile, _ name: String, expectedShape: [Int], basePath: String) throws -> DeltaDQ.Encoded {
        func fail(_ reason: String) -> OnboardError { .format(path: file.path, item: name, reason: reason) }
        let header = try file.tensor(name + headerSuffix)
        guard header.dtype == .i64, header.count >= 10 else { throw fail("malformed DeltaDQ header") }
        var stored = (0..<header.count).map { header.rawPointer.load(fromByteOffset: $0 * 8, as: Int64.self) }
        guard (1...version).contains(stored[0]) else { throw fail("unsupported DeltaDQ format version \(stored[0])") }
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
        let config = DeltaDQ.Config(groupSize: h[1], bits: h[2], splitBits: h[3], keepPerGroup: h[4], selection: selection)
        do { try config.validate(cols: h[7]) } catch {
            throw fail("invalid DeltaDQ configuration: group size \(h[1]), bits \(h[2]) (2...8), split bits \(h[3]), keep \(h[4]) per group")
        }
        guard file.contains(name + scalesSuffix), file.contains(name + streamSuffix) else { throw fail("scales or stream missing") }
        let scales = try file.tensor(name + scalesSuffix), stream = try file.tensor(name + streamSuffix)
        guard scales.dtype == .f32, scales.count == h[6], stream.dtype == .u8 else { throw fail("scales or stream have the wrong type or size") }
        let bytes = (0..<stream.count).map { stream.rawPointer.load(fromByteOffset: $0, as: UInt8.self) }
        guard scales.floats().allFinite else { throw fail("non-finite scale") }
        if let checksum, checksum != DeltaChecksum.of(header: stored, scales: scales.floats(), stream: bytes) {
            throw fail("checksum mismatch: the header, scales or stream were changed or damaged")
        }
        guard (0...8 * bytes.count).contains(h[8]), h[8] > 8 * (bytes.count - 1) || bytes.isEmpty else {
            throw fail("header stream bits \(h[8]) do not match the \(bytes.count)-byte stream")
        }
        return DeltaDQ.Encoded(config: config, rows: h[6], cols: h[7], scales: scales.floats(), stream: bytes, streamBits: h[8])
    }

    private static func requireSameTensors(_ base: SafeTensorsFile, _ tuned: SafeTensorsFile) throws {
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

    private static func floats(_ file: SafeTensorsFile, _ name: String) throws -> [Float] {
        let tensor = try file.tensor(name)
        guard tensor.dtype == .f32 else {
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

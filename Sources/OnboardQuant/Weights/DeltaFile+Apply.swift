import Foundation
import OnboardCore

extension DeltaFile {
    /// The tensors a delta changes, merged with the base (base + Δ̂, or a carried tensor as it is),
    /// by name; tensors absent from a delta of version 3 or later are the base's. Everything is decoded and
    /// checked before anything is returned: an error leaves nothing applied.
    public struct Merged {
        public var tensors: [String: Tensor]
        public var report: ApplyReport
    }

    public static func merge(base baseFile: SafeTensorsFile, delta: String) throws -> Merged {
        let deltaFile = try SafeTensorsFile(path: delta)
        let stated = try requireDeltaFormat(deltaFile)
        let carried = deltaFile.names.filter { $0.hasSuffix(carriedSuffix) }.map { String($0.dropLast(carriedSuffix.count)) }.sorted()
        if stated >= 3 { try requireBase(baseFile, of: deltaFile) }
        if stated >= 4 { try requireEntries(deltaFile) }
        let tensors = stated >= 4 ? try unpacked(deltaFile, base: baseFile) : try perTensor(deltaFile, base: baseFile, stated: stated)
        var merged: [String: Tensor] = [:], applied: [AppliedTensor] = []
        var payload = 0, values = 0
        for tensor in tensors {
            let encoded = tensor.encoded
            var restored = try DeltaDQ.decode(encoded, item: "\(delta): \(tensor.name)")
            if let lowRank = tensor.lowRank {
                for (i, value) in try LowRankDelta.decode(lowRank, item: "\(delta): \(tensor.name)").enumerated() { restored[i] += value }
            }
            var values32 = try floats(baseFile, tensor.name)
            let cols = encoded.cols
            for (i, r) in (tensor.rows ?? Array(0..<encoded.rows)).enumerated() {
                for c in 0..<cols { values32[r * cols + c] += restored[i * cols + c] }
            }
            let shape = baseFile.entry(tensor.name)?.shape ?? []
            merged[tensor.name] = try Tensor(shape: shape, values: values32)
            let bitmapBits = tensor.rows == nil ? 0 : 8 * ((matrixView(shape).rows + 7) / 8)
            let bits = encoded.payloadBits + bitmapBits + (tensor.lowRank?.storedBits ?? 0)
            applied.append(AppliedTensor(name: tensor.name, ratio: Double(16 * values32.count) / Double(bits),
                                         maxAbsDelta: Double(restored.map { abs($0) }.max() ?? 0)))
            payload += bits
            values += values32.count
        }
        for name in carried {
            let tensor = try deltaFile.tensor(name + carriedSuffix)
            guard let baseEntry = baseFile.entry(name), baseEntry.shape == tensor.shape,
                  try baseFile.tensor(name).dtype == tensor.dtype else {
                throw OnboardError.format(path: delta, item: name + carriedSuffix,
                                          reason: "no tensor of this dtype and shape \(tensor.shape) in the base \(baseFile.path)")
            }
            merged[name] = tensor
        }
        if stated == 3 { try requireEntries(deltaFile) }
        let ratio: Double
        if stated >= 3 {
            let floatValues = baseFile.entries.filter { baseFile.tensor($0).dtype.isFloat }.reduce(0) { $0 + $1.shape.reduce(1, *) }
            ratio = Double(2 * floatValues) / Double(max(try fileSize(delta), 1))
        } else {
            ratio = Double(16 * values) / Double(max(payload, 1))
        }
        return Merged(tensors: merged, report: ApplyReport(ratio: ratio, tensors: applied))
    }

    /// The tensors of a version 1 to 3 file, one header, scales and stream entry each; version 1
    /// and 2 files hold every tensor of the base.
    private static func perTensor(_ deltaFile: SafeTensorsFile, base baseFile: SafeTensorsFile, stated: Int64) throws -> [UnpackedTensor] {
        let names = deltaFile.names.filter { $0.hasSuffix(headerSuffix) }.map { String($0.dropLast(headerSuffix.count)) }.sorted()
        if stated < 3, let name = baseFile.names.filter({ !names.contains($0) }).sorted().first {
            throw OnboardError.format(path: deltaFile.path, item: name, reason: "no delta for this tensor of \(baseFile.path)")
        }
        return try names.map { name in
            guard let baseEntry = baseFile.entry(name) else {
                throw OnboardError.format(path: baseFile.path, item: name, reason: "tensor missing (the delta \(deltaFile.path) has it)")
            }
            let (encoded, rows) = try readEncoded(deltaFile, name, expectedShape: baseEntry.shape, basePath: baseFile.path)
            return UnpackedTensor(name: name, encoded: encoded, rows: rows)
        }
    }

    /// Writes `base + delta` (every tensor of the base, the changed ones merged) to `out`.
    public static func apply(base: String, delta: String, out: String) throws -> ApplyReport {
        let baseFile = try SafeTensorsFile(path: base)
        let merged = try merge(base: baseFile, delta: delta)
        let written = try baseFile.entries.map { entry in (entry.name, try merged.tensors[entry.name] ?? baseFile.tensor(entry.name)) }
        try SafeTensorsWriter.write(written, to: out)
        return merged.report
    }

    /// A version 3 delta names the base it was made from.
    private static func requireBase(_ baseFile: SafeTensorsFile, of deltaFile: SafeTensorsFile) throws {
        guard let stated = deltaFile.metadata[fingerprintKey] else {
            throw OnboardError.format(path: deltaFile.path, item: "__metadata__.\(fingerprintKey)", reason: "missing")
        }
        let actual = DeltaFingerprint.of(baseFile)
        guard stated == actual else {
            throw OnboardError.format(path: deltaFile.path, item: "__metadata__.\(fingerprintKey)",
                                      reason: "made from another base (\(stated)); \(baseFile.path) is \(actual)")
        }
    }

    /// After each tensor's own checks: no entry was added or removed.
    private static func requireEntries(_ deltaFile: SafeTensorsFile) throws {
        let entries = deltaFile.entries.map { ($0.name, deltaFile.tensor($0)) }
        guard deltaFile.metadata[contentKey] == "\(DeltaChecksum.of(entries: entries))" else {
            throw OnboardError.format(path: deltaFile.path, item: "__metadata__.\(contentKey)",
                                      reason: "checksum mismatch: tensors were added, removed or changed")
        }
    }
}

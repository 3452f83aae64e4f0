import Foundation
import OnboardCore

/// Version 4 keeps every changed tensor in three shared entries, so that a model of many small
/// tensors does not pay a safetensors JSON entry and an i64 header per tensor (the 116 changed
/// tensors of the demo detector's head spent 65 KB of a 267 KB version 3 file at 16x on them):
/// - `deltadq.index` (u8): one record per changed tensor, in the order of the base's sorted names, of
///   LEB128 varints: how many names after the previous record's tensor (the first counts from
///   before the first name), then the kind: 0 and group size, bits, split bits, keep per group,
///   selection, stream bits (DeltaDQ codes); 2, the rank and bits of a low-rank part, then the same
///   six fields for the DeltaDQ codes of its residual; or 1 and an earlier record whose delta this
///   tensor shares (weights a model ties, such as PETR's branches shared by every decoder layer,
///   are stored once);
/// - `deltadq.scales` (f16): per tensor, the low-rank part's row scales (U's changed rows, then V's
///   rows) and the changed rows' DeltaDQ scales;
/// - `deltadq.stream` (u8): per tensor, its row bitmap, the low-rank codes in whole bytes and the
///   DeltaDQ codes, in whole bytes (stream bits count all three).
/// Shapes are the base's (its fingerprint is checked first), and the metadata's content checksum,
/// which covers the three entries, is checked before anything is decoded.
extension DeltaFile {
    static let packedIndex = "deltadq.index", packedScales = "deltadq.scales", packedStream = "deltadq.stream"

    /// A changed tensor's encoded rows, or the earlier tensor whose delta it shares, ready to be packed.
    struct PackedTensor {
        enum Content {
            case stream(TensorEncoding, bitmap: [UInt8])
            case copy(of: String)
        }
        let name: String
        let content: Content
    }

    /// A decoded record: the tensor it changes, its stream and its changed rows.
    struct UnpackedTensor {
        let name: String
        let encoded: DeltaDQ.Encoded
        let rows: [Int]?
        var lowRank: LowRankDelta.Encoded? = nil
    }

    /// The three entries of `tensors` (in the base's name order); none when nothing changed.
    static func packed(_ tensors: [PackedTensor], baseNames: [String]) throws -> [(name: String, tensor: Tensor)] {
        guard !tensors.isEmpty else { return [] }
        let position = Dictionary(uniqueKeysWithValues: baseNames.sorted().enumerated().map { ($1, $0) })
        var index: [UInt8] = [], scales: [Float] = [], stream: [UInt8] = [], previous = -1, records: [String: Int] = [:]
        for tensor in tensors.sorted(by: { $0.name < $1.name }) {
            guard let at = position[tensor.name] else { throw OnboardError.shape(item: tensor.name, reason: "not a tensor of the base") }
            var fields = [at - previous - 1]
            switch tensor.content {
            case let .stream(encoding, bitmap):
                let c = encoding.residual.config, lowRank = encoding.lowRank
                fields += lowRank.map { [2, $0.rank, $0.bits] } ?? [0]
                fields += [c.groupSize, c.bits, c.splitBits, c.keepPerGroup, c.selection.rawValue,
                           8 * (bitmap.count + (lowRank?.stream.count ?? 0)) + encoding.residual.streamBits]
                scales += (lowRank?.scales ?? []) + encoding.residual.scales
                stream += bitmap + (lowRank?.stream ?? []) + encoding.residual.stream
            case let .copy(source):
                guard let record = records[source] else { throw OnboardError.shape(item: tensor.name, reason: "shares the delta of \(source), which comes later") }
                fields += [1, record]
            }
            fields.forEach { Varint.append(UInt64($0), to: &index) }
            records[tensor.name] = records.count
            previous = at
        }
        return [(packedIndex, try Tensor(shape: [index.count], dtype: .u8, integers: index)),
                (packedScales, try Tensor(shape: [scales.count], values: scales)),
                (packedStream, try Tensor(shape: [stream.count], dtype: .u8, integers: stream))]
    }

    /// The records of a version 4 file against `base`; every bound is checked before it is used.
    static func unpacked(_ file: SafeTensorsFile, base: SafeTensorsFile) throws -> [UnpackedTensor] {
        let parts = [packedIndex, packedScales, packedStream]
        if let stray = file.names.sorted().first(where: { !parts.contains($0) && !$0.hasSuffix(carriedSuffix) }) {
            throw OnboardError.format(path: file.path, item: stray, reason: "not an entry of a version \(version) delta")
        }
        guard parts.contains(where: file.contains) else { return [] }
        guard let missing = parts.first(where: { !file.contains($0) }) else { return try records(file, base: base) }
        throw OnboardError.format(path: file.path, item: missing, reason: "missing (\(parts.joined(separator: ", ")) go together)")
    }

    private static func records(_ file: SafeTensorsFile, base: SafeTensorsFile) throws -> [UnpackedTensor] {
        let indexTensor = try file.tensor(packedIndex), scalesTensor = try file.tensor(packedScales), streamTensor = try file.tensor(packedStream)
        guard indexTensor.dtype == .u8, streamTensor.dtype == .u8, scalesTensor.dtype == .f32,
              [indexTensor, scalesTensor, streamTensor].allSatisfy({ $0.rank == 1 }) else {
            throw OnboardError.format(path: file.path, item: packedIndex, reason: "index, scales or stream have the wrong type or rank")
        }
        let scales = scalesTensor.floats()
        guard scales.allFinite else { throw OnboardError.format(path: file.path, item: packedScales, reason: "non-finite scale") }
        let stream = (0..<streamTensor.count).map { streamTensor.rawPointer.load(fromByteOffset: $0, as: UInt8.self) }
        var reader = Varint.Reader(bytes: (0..<indexTensor.count).map { indexTensor.rawPointer.load(fromByteOffset: $0, as: UInt8.self) })
        let names = base.names.sorted()
        var out: [UnpackedTensor] = [], position = -1, scaleOffset = 0, streamOffset = 0
        while !reader.atEnd {
            let record = out.count
            func fail(_ reason: String) -> OnboardError { .format(path: file.path, item: "\(packedIndex) record \(record)", reason: reason) }
            guard let head = reader.read(2, max: Int(Int32.max)) else { throw fail("truncated or malformed record") }
            guard head[0] < names.count - position - 1 else { throw fail("names no tensor of the base \(base.path)") }
            position += head[0] + 1
            let name = names[position]
            guard let entry = base.entry(name), entry.dtype.isFloat else { throw fail("\(name) is not a float tensor of the base \(base.path)") }
            if head[1] == 1 {
                guard let source = reader.read(1, max: Int(Int32.max))?.first else { throw fail("truncated or malformed record") }
                guard source < out.count, base.entry(out[source].name)?.shape == entry.shape else {
                    throw fail("\(name): shares the delta of record \(source), which is not an earlier tensor of its shape")
                }
                out.append(UnpackedTensor(name: name, encoded: out[source].encoded, rows: out[source].rows, lowRank: out[source].lowRank))
                continue
            }
            let lowRankFields = head[1] == 2 ? reader.read(2, max: Int(Int32.max)) : []
            guard head[1] == 0 || head[1] == 2, let lowRankFields, let fields = reader.read(6, max: Int(Int32.max)) else {
                throw fail("truncated or malformed record")
            }
            let (groupSize, bits, splitBits, keep, selectionCode, streamBits) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5])
            let (rows, cols) = matrixView(entry.shape)
            guard let selection = DeltaDQ.Selection(rawValue: selectionCode) else { throw fail("\(name): unknown selection \(selectionCode)") }
            let config = DeltaDQ.Config(groupSize: groupSize, bits: bits, splitBits: splitBits, keepPerGroup: keep, selection: selection, compact: true)
            do { try config.validate(cols: cols) } catch {
                throw fail("\(name): invalid DeltaDQ configuration: group size \(groupSize), bits \(bits), split bits \(splitBits), keep \(keep) per group")
            }
            let bitmapBytes = (rows + 7) / 8, streamBytes = (streamBits + 7) / 8
            guard streamBits >= 8 * bitmapBytes, streamBytes <= stream.count - streamOffset else {
                throw fail("\(name): stream bits \(streamBits) do not fit the stream's \(stream.count - streamOffset) remaining bytes")
            }
            let bytes = Array(stream[streamOffset..<(streamOffset + streamBytes)])
            let changed = (0..<rows).filter { bytes[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
            // The low-rank part: rank and bits, U's and V's row scales, whole bytes of codes.
            let rank = lowRankFields.first ?? 0, lowRankBits = lowRankFields.last ?? 0
            guard head[1] == 0 || ((1...min(max(changed.count, 1), cols)).contains(rank) && (2...8).contains(lowRankBits)) else {
                throw fail("\(name): low-rank part of rank \(rank) at \(lowRankBits) bits for \(changed.count) rows of \(cols)")
            }
            let lowRankScales = rank > 0 ? changed.count + rank : 0
            let lowRankBytes = rank > 0 ? (lowRankBits * rank * (changed.count + cols) + 7) / 8 : 0
            guard !changed.isEmpty, changed.count + lowRankScales <= scales.count - scaleOffset,
                  8 * (bitmapBytes + lowRankBytes) <= streamBits else {
                throw fail("\(name): \(changed.count) changed rows and rank \(rank) do not fit \(scales.count - scaleOffset) scales left and \(streamBits) stream bits")
            }
            var lowRank: LowRankDelta.Encoded?
            if rank > 0 {
                lowRank = LowRankDelta.Encoded(rows: changed.count, cols: cols, rank: rank, bits: lowRankBits,
                                               scales: Array(scales[scaleOffset..<(scaleOffset + lowRankScales)]),
                                               stream: Array(bytes[bitmapBytes..<(bitmapBytes + lowRankBytes)]))
            }
            let residualScales = scaleOffset + lowRankScales
            let encoded = DeltaDQ.Encoded(config: config, rows: changed.count, cols: cols,
                                          scales: Array(scales[residualScales..<(residualScales + changed.count)]),
                                          stream: Array(bytes[(bitmapBytes + lowRankBytes)...]),
                                          streamBits: streamBits - 8 * (bitmapBytes + lowRankBytes))
            out.append(UnpackedTensor(name: name, encoded: encoded, rows: changed, lowRank: lowRank))
            scaleOffset += lowRankScales + changed.count
            streamOffset += streamBytes
        }
        guard scaleOffset == scales.count, streamOffset == stream.count else {
            throw OnboardError.format(path: file.path, item: packedIndex,
                                      reason: "\(scales.count - scaleOffset) scales and \(stream.count - streamOffset) stream bytes belong to no record")
        }
        return out
    }
}

/// LEB128: 7 bits a byte, least significant first, the top bit set on every byte but the last.
enum Varint {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset >= bytes.count }

        /// `count` values, each at most `max`; nil when the bytes end early or a value is larger.
        mutating func read(_ count: Int, max: Int) -> [Int]? {
            var values: [Int] = []
            for _ in 0..<count {
                var value: UInt64 = 0, shift: UInt64 = 0
                while true {
                    guard offset < bytes.count, shift < 63 else { return nil }
                    let byte = bytes[offset]
                    offset += 1
                    value |= UInt64(byte & 0x7f) << shift
                    shift += 7
                    if byte & 0x80 == 0 { break }
                }
                guard value <= UInt64(max) else { return nil }
                values.append(Int(value))
            }
            return values
        }
    }
}

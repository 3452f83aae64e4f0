import Foundation

/// A safetensors file, memory-mapped; tensors are materialized only when asked for.
///
/// Everything in the header is validated on open: header length against file size, well-formed
/// JSON, known dtypes, shape x dtype size == byte span, spans inside the data section and not
/// overlapping. Any violation is an `OnboardError.format` naming the file and the tensor.
public final class SafeTensorsFile: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte span inside the data section.
        public let begin: Int
        public let end: Int
    }

    public let path: String
    /// Tensor entries in file order.
    public let entries: [Entry]
    public let metadata: [String: String]
    private let index: [String: Int]
    private let file: MappedFile
    private let dataStart: Int

    /// Header length limit, as in the reference implementation (100 MB).
    static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        func fail(_ item: String?, _ reason: String) -> OnboardError {
            .format(path: path, item: item, reason: reason)
        }
        guard file.size >= 8, let base = file.pointer else { throw fail(nil, "too short for a safetensors header") }
        let headerLength = base.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(Self.maxHeaderBytes), Int(headerLength) <= file.size - 8 else {
            throw fail(nil, "header length \(headerLength) exceeds the file size \(file.size)")
        }
        dataStart = 8 + Int(headerLength)
        let headerData = Data(bytes: base + 8, count: Int(headerLength))
        let json: Any
        do {
            json = try JSONInput.parse(headerData, path: path)
        } catch let OnboardError.format(_, _, reason) {
            throw fail(nil, "header is not a JSON object (\(reason))")
        }
        guard let header = json as? [String: Any] else { throw fail(nil, "header is not a JSON object") }
        if let name = JSONObjectKeys.firstDuplicate(in: UnsafeRawBufferPointer(start: base + 8, count: Int(headerLength))) {
            throw fail(name, "the header names this tensor more than once")
        }
        let dataSize = file.size - dataStart
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else { throw fail(name, "metadata is not an object") }
                for (key, item) in dict {
                    guard let text = item as? String else { throw fail("__metadata__.\(key)", "metadata values must be strings") }
                    metadata[key] = text
                }
                continue
            }
            entries.append(try Self.parseEntry(name: name, value: value, dataSize: dataSize, fail: fail))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (previous, next) in zip(entries, entries.dropFirst()) where next.begin < previous.end {
            throw fail(next.name, "data overlaps tensor '\(previous.name)'")
        }
        self.entries = entries
        self.metadata = metadata
        self.index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    private static func parseEntry(
        name: String, value: Any, dataSize: Int, fail: (String?, String) -> OnboardError
    ) throws -> Entry {
        guard let dict = value as? [String: Any] else { throw fail(name, "entry is not an object") }
        guard let dtypeName = dict["dtype"] as? String else { throw fail(name, "missing dtype") }
        guard let dtype = DType(safetensorsName: dtypeName) else { throw fail(name, "unsupported dtype \(dtypeName)") }
        guard let shapeArray = dict["shape"] as? [Any] else { throw fail(name, "missing shape") }
        var shape: [Int] = []
        for dim in shapeArray {
            guard let n = Self.nonNegativeInt(dim) else { throw fail(name, "shape \(shapeArray) is not a list of non-negative integers") }
            shape.append(n)
        }
        guard let offsets = dict["data_offsets"] as? [Any], offsets.count == 2,
              let begin = Self.nonNegativeInt(offsets[0]), let end = Self.nonNegativeInt(offsets[1]), begin <= end else {
            throw fail(name, "data_offsets must be two integers [begin, end] with begin <= end")
        }
        guard end <= dataSize else { throw fail(name, "data span [\(begin), \(end)) lies outside the data section (\(dataSize) bytes)") }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw fail(name, "shape \(shape) is too large") }
            elements = product
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == end - begin else {
            throw fail(name, "shape \(shape) of \(dtypeName) needs \(elements) x \(dtype.byteSize) bytes, span holds \(end - begin)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private static func nonNegativeInt(_ value: Any) -> Int? {
        if let n = value as? Int, n >= 0 { return n }
        return nil
    }

    public var names: [String] { entries.map(\.name) }

    public func entry(_ name: String) -> Entry? {
        index[name].map { entries[$0] }
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The tensor `name`: f16/bf16 widened to f32, other types served from the mapping when aligned.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entry(name) else {
            throw OnboardError.format(path: path, item: name, reason: "no such tensor")
        }
        return tensor(entry)
    }

    public func tensor(_ entry: Entry) -> Tensor {
        let offset = dataStart + entry.begin
        let count = entry.end - entry.begin
        guard count > 0, let base = file.pointer else {
            return Tensor(zeros: entry.shape, dtype: entry.dtype.isResident ? entry.dtype : .f32)
        }
        let start = base + offset
        if offset % entry.dtype.byteSize == 0 {
            let view = Tensor(shape: entry.shape, dtype: entry.dtype,
                              buffer: AlignedBuffer(borrowing: start, byteCount: count, owner: file))
            return view.widened()
        }
        let copy = Tensor(zeros: entry.shape, dtype: entry.dtype)
        copy.rawPointer.copyMemory(from: start, byteCount: count)
        return copy.widened()
    }

    /// Every tensor, by name.
    public func allTensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.name, tensor($0)) })
    }
}

extension SafeTensorsFile {
    /// Shapes of every tensor, by name.
    public var shapes: [String: [Int]] { Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.shape) }) }
}

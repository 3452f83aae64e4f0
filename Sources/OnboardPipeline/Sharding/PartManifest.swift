import Foundation
import OnboardCore

/// `part.json`, what each part directory of a sharded run holds besides its outputs: which run
/// and which shard it is, the samples it covers and the machine it ran on.
public struct PartManifest: Codable, Sendable {
    public static let fileName = "part.json"
    public static let formatName = "onboard-part/1"

    public enum Kind: String, Codable, Sendable {
        case detect, validate, quantize
    }

    public var format = Self.formatName
    public var kind: Kind
    public var shard: Shard
    public var identity: RunIdentity
    /// The samples of this shard's slice, in run order.
    public var samples: [String]
    public var machine: MachineInfo
    public var wallSeconds: Double

    enum CodingKeys: String, CodingKey {
        case format, kind, shard, identity, samples, machine, wallSeconds = "wall_seconds"
    }

    public init(kind: Kind, shard: Shard, identity: RunIdentity, samples: [String], machine: MachineInfo, wallSeconds: Double) {
        (self.kind, self.shard, self.identity, self.samples) = (kind, shard, identity, samples)
        (self.machine, self.wallSeconds) = (machine, wallSeconds)
    }

    func write(in directory: String) throws {
        try PartFile.write(self, to: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// The manifest of the part directory `path`.
    static func read(part path: String) throws -> PartManifest {
        let file = (path as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file) else {
            throw OnboardError.format(path: path, item: fileName, reason: "missing: not a part written by a sharded run (--shard)")
        }
        let manifest = try PartFile.read(PartManifest.self, from: file)
        guard manifest.format == formatName else {
            throw OnboardError.format(path: file, item: "format", reason: "'\(manifest.format)' is not \(formatName)")
        }
        return manifest
    }
}

/// JSON files of a part: sorted keys, written atomically, read with the file and field named.
enum PartFile {
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        try AtomicFile(path: path).write(bytes: [UInt8](try encoder.encode(value)) + [0x0A])
    }

    static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let data = try InputFile.read(path)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "NaN")
        do {
            return try decoder.decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw OnboardError.format(path: path, item: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."), reason: "missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let item = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw OnboardError.format(path: path, item: item.isEmpty ? nil : item, reason: context.debugDescription)
        } catch {
            throw OnboardError.format(path: path, item: nil, reason: "not readable JSON: \(error.localizedDescription)")
        }
    }
}

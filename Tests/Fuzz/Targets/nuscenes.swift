import Foundation
import OnboardSensors

/// The nuScenes table reader: the first byte picks one of the 13 tables, the rest replaces that
/// table's JSON in a copy of the synthetic tiny fixture, and the whole set is loaded and
/// cross-validated (tokens, links, key frames) as `NuScenesTables(dataroot:version:)` does.
let tables = ["category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
              "scene", "sample", "sample_data", "sample_annotation", "map"]
let version = "v1.0-fuzz"

/// The fixture's tables, as written to the scratch copy (run from the repository root). Byte arrays,
/// not Data: LeakSanitizer does not see Data's tagged storage pointer from a global and reports it.
let originals: [[UInt8]] = {
    let fixture = "Tests/Fixtures/nuscenes-synth-tiny/v1.0-synth"
    let copy = FuzzScratch.path(version)
    try! FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    return tables.map { table in
        guard let data = FileManager.default.contents(atPath: "\(fixture)/\(table).json") else {
            fatalError("nuscenes fuzz target: run from the repository root (no \(fixture)/\(table).json)")
        }
        _ = FileManager.default.createFile(atPath: "\(copy)/\(table).json", contents: data)
        return [UInt8](data)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNuScenes(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let table = Int(data[0]) % tables.count
    let name = "\(version)/\(tables[table]).json"
    _ = originals
    FuzzScratch.write(name, data + 1, size - 1)
    _ = try? NuScenesTables(dataroot: FuzzScratch.directory, version: version)
    originals[table].withUnsafeBytes { _ = FuzzScratch.write(name, $0) }
    return 0
}

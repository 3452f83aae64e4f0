import OnboardSensors

/// A camera rig file (Sensors/<name>.json): decode and validate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? CameraRig(path: FuzzScratch.write("rig.json", data, size))
    return 0
}

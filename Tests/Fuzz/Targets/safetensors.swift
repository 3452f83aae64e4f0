import OnboardCore

/// The safetensors header: length, JSON, dtypes, shapes and spans; then every tensor is materialized.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzScratch.write("input.safetensors", data, size)
    if let file = try? SafeTensorsFile(path: path) {
        for entry in file.entries { _ = file.tensor(entry) }
    }
    return 0
}

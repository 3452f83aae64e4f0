import OnboardModels

/// A model bundle's config.json (architecture vit or petr, each with its own decoder and checks).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBundleConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzScratch.write("config.json", data, size)
    _ = try? ModelBundle(directory: FuzzScratch.directory)
    return 0
}

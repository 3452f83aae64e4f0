import OnboardPipeline

/// A board profile (Configs/boards/*.yaml).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBoard(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? BoardProfile.load(path: FuzzScratch.write("board.yaml", data, size))
    return 0
}

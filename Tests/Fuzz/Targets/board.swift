@testable import OnboardCLI

/// A board profile (Configs/boards/*.yaml); the reader is internal to the CLI module, which the
/// fuzz build compiles with -enable-testing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBoard(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? BoardProfile.load(path: FuzzScratch.write("board.yaml", data, size))
    return 0
}

import OnboardEval

/// A detection results (submission) JSON, read from memory as `onboard eval` reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResults(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let results = try? ResultsReader.read(bytes: bytes, path: "results.json") {
        _ = try? results.boxes(forSplit: results.boxesBySample.keys.sorted(), path: "results.json")
    }
    return 0
}

import OnboardCore
import OnboardQuant

/// The DeltaDQ delta file reader: `DeltaFile.apply` of the input onto a fixed float base (a matrix,
/// a 3-d tensor and a vector, as `onboard delta` sees a model), writing the sum to the scratch directory.
let basePath: String = {
    let path = FuzzScratch.path("base.safetensors")
    try! SafeTensorsWriter.write(DeltaFuzzBase.tensors(), to: path)
    return path
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDelta(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let delta = FuzzScratch.write("delta.safetensors", data, size)
    _ = try? DeltaFile.apply(base: basePath, delta: delta, out: FuzzScratch.path("applied.safetensors"))
    return 0
}

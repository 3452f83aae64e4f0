import OnboardGraph

/// A quantized bundle's plan (quant.json): the recipe plus per-tensor activation grids.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuantPlan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let plan = try? QuantizationPlan.load(path: FuzzScratch.write("quant.json", data, size)) {
        for params in plan.activations.values where params.isValid { _ = params.representableRange }
    }
    return 0
}

import OnboardGraph

/// A quantization recipe (Configs/recipes/*.json).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecipe(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? QuantizationRecipe.load(path: FuzzScratch.write("recipe.json", data, size))
    return 0
}

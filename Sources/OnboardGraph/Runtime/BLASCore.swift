import CBLAS

/// The CPU kernel set OpenBLAS chose (e.g. "Haswell", "SkylakeX"; `OPENBLAS_CORETYPE` forces one):
/// FP32 products round differently on different sets, so sharded runs record it beside the
/// kernel paths.
public enum BLASCore {
    public static var name: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }
}

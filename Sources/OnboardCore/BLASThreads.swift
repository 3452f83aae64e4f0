import CBLAS

/// OpenBLAS runs single-threaded: its own pool busy-waits (yielding) long after each call and would
/// fight Onboard's workers for the cores, so callers split their products over those instead.
/// Every BLAS call of the kit goes through `useOne()` first.
public enum BLASThreads {
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    public static func useOne() { _ = singleThreaded }
}

import Foundation

import Dispatch

/// Data-parallel loops over the shared Dispatch pool, with an explicit thread count.
public enum Parallel {
    /// Cores available to this process.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Splits `0..<count` into at most `threads` contiguous ranges (each at least `grain` long
    /// when possible) and runs `body` on them concurrently.
    public static func forRanges(count: Int, threads: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, (count + max(grain, 1) - 1) / max(grain, 1)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        // The caller's body is data-parallel by contract: each range touches disjoint memory.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                if start < end { body(start..<end) }
            }
        }
    }
}

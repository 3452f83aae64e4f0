import Foundation

import CKernels
import Dispatch

/// Data-parallel loops with an explicit thread count, on Onboard's worker pool (spinning workers,
/// so sub-millisecond ops use every core) or, while another thread holds the pool, on Dispatch.
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
            var loop = ChunkedLoop(count: count, chunks: chunks, body: body)
            let ran = withUnsafeMutablePointer(to: &loop) { pointer in
                onboard_pool_run(chunks, chunks, { context, chunk in
                    context?.assumingMemoryBound(to: ChunkedLoop.self).pointee.run(chunk)
                }, pointer)
            }
            if ran == 0 {
                nonisolated(unsafe) let loop = loop
                DispatchQueue.concurrentPerform(iterations: chunks) { loop.run($0) }
            }
        }
    }
}

/// One loop's ranges: chunk `i` of `chunks` covers `count * i / chunks ..< count * (i + 1) / chunks`.
private struct ChunkedLoop {
    let count: Int
    let chunks: Int
    let body: (Range<Int>) -> Void

    func run(_ chunk: Int) {
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        if start < end { body(start..<end) }
    }
}

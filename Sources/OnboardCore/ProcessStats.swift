#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// Facts about this process for reports.
public enum ProcessStats {
    /// Peak resident set size so far, in bytes. On Linux this is VmHWM, which (unlike
    /// getrusage's ru_maxrss) does not inherit the parent's peak across fork and exec.
    public static var peakResidentBytes: Int {
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return kilobytes * 1024
        }
        #endif
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// Resets the kernel's peak resident size (VmHWM) to the current resident size, so that
    /// `peakResidentBytes` afterwards measures one phase of work. Freed heap memory is handed back
    /// to the system first (malloc_trim), so the new baseline is what is still in use. Linux only
    /// (writes "5" to /proc/self/clear_refs); returns false, and does nothing, where that is unavailable.
    @discardableResult
    public static func resetPeak() -> Bool {
        #if os(Linux)
        trimHeap()
        guard let handle = fopen("/proc/self/clear_refs", "w") else { return false }
        let written = fputs("5", handle) >= 0
        return fclose(handle) == 0 && written
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// glibc's malloc_trim(0), looked up at run time (the Glibc module does not export it; other C
    /// libraries lack it).
    private static func trimHeap() {
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        typealias Trim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }
    #endif

    /// Monotonic seconds.
    public static func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

/// Median and percentiles of timings.
public struct TimingSummary: Sendable {
    public let samples: [Double]

    public init(_ samples: [Double]) { self.samples = samples.sorted() }

    /// Nearest-rank percentile (p in 0...100).
    public func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(samples.count)).rounded(.up)) - 1
        return samples[min(max(rank, 0), samples.count - 1)]
    }

    public var median: Double {
        guard !samples.isEmpty else { return .nan }
        let mid = samples.count / 2
        return samples.count % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Facts about this process for reports.
public enum ProcessStats {
    /// Peak resident set size so far, in bytes.
    public static var peakResidentBytes: Int {
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

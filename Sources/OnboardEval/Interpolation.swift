/// numpy operations the metric relies on, reproduced with numpy's exact semantics.
public enum NumpyMath {
    /// `np.linspace(0, 1, count)`: i * (1 / (count - 1)), with the last element exactly 1.
    public static func unitLinspace(_ count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [0] : [] }
        let step = 1.0 / Double(count - 1)
        var values = (0..<count).map { Double($0) * step }
        values[count - 1] = 1
        return values
    }

    /// `np.interp(x, xp, fp, left, right)` for non-decreasing `xp` (numpy's compiled `arr_interp`):
    /// below xp[0] gives `left` (default fp[0]), above xp[last] `right` (default fp[last]); inside, the
    /// segment starting at the last xp[j] <= x, returning fp[j] exactly when x == xp[j].
    public static func interp(_ x: [Double], _ xp: [Double], _ fp: [Double],
                              left: Double? = nil, right: Double? = nil) -> [Double] {
        precondition(xp.count == fp.count && !xp.isEmpty, "interp needs equally long, non-empty xp and fp")
        let leftValue = left ?? fp[0], rightValue = right ?? fp[fp.count - 1]
        let n = xp.count
        if n == 1 {
            return x.map { $0 < xp[0] ? leftValue : ($0 > xp[0] ? rightValue : fp[0]) }
        }
        return x.map { value in
            if value.isNaN { return value }
            if value > xp[n - 1] { return rightValue }
            if value < xp[0] { return leftValue }
            let j = lastIndex(notAbove: value, in: xp)
            if j == n - 1 || xp[j] == value { return fp[j] }
            let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
            var result = slope * (value - xp[j]) + fp[j]
            if result.isNaN {
                result = slope * (value - xp[j + 1]) + fp[j + 1]
                if result.isNaN, fp[j] == fp[j + 1] { result = fp[j] }
            }
            return result
        }
    }

    /// Largest j with xp[j] <= value (xp non-decreasing, xp[0] <= value).
    static func lastIndex(notAbove value: Double, in xp: [Double]) -> Int {
        var low = 0, high = xp.count  // first index with xp[i] > value lies in [low, high]
        while low < high {
            let mid = low + (high - low) / 2
            if value >= xp[mid] { low = mid + 1 } else { high = mid }
        }
        return low - 1
    }

    /// The devkit's `cummean`: NaN-skipping running mean (0 before the first number); all ones when
    /// every value is NaN.
    public static func cumulativeMean(_ values: [Double]) -> [Double] {
        if values.allSatisfy(\.isNaN) { return [Double](repeating: 1, count: values.count) }
        var sum = 0.0, count = 0
        return values.map { value in
            if !value.isNaN { sum += value; count += 1 }
            return count == 0 ? 0 : sum / Double(count)
        }
    }

    /// `np.mean`; NaN for an empty array, as numpy.
    public static func mean(_ values: ArraySlice<Double>) -> Double {
        guard !values.isEmpty else { return .nan }
        return values.reduce(0, +) / Double(values.count)
    }

    /// `np.nanmean`: the mean of the non-NaN values, NaN when there are none.
    public static func nanMean(_ values: [Double]) -> Double {
        mean(ArraySlice(values.filter { !$0.isNaN }))
    }
}

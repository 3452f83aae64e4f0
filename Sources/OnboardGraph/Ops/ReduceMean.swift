import OnboardCore

/// Mean over one axis (accumulated in Double).
enum ReduceMeanOp {
    static func run(_ input: Operand, _ output: Operand, axis: Int) {
        let outer = input.shape[..<axis].reduce(1, *)
        let extent = input.shape[axis]
        let inner = input.shape[(axis + 1)...].reduce(1, *)
        let x = input.floats, y = output.floats
        var sums = [Double](repeating: 0, count: inner)
        for o in 0..<outer {
            for i in 0..<inner { sums[i] = 0 }
            for a in 0..<extent {
                let row = x + (o * extent + a) * inner
                for i in 0..<inner { sums[i] += Double(row[i]) }
            }
            for i in 0..<inner { y[o * inner + i] = extent == 0 ? .nan : Float(sums[i] / Double(extent)) }
        }
    }
}

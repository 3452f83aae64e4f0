import OnboardCore
import OnboardQuant

/// The calibration observers of a recipe's ADFQ-ViT quantizers: per-patch values get one quantile
/// observer per token position (`NAME#token<t>`, fed the values within the outlier threshold), and
/// Shift-Log2 values one of the whole tensor (`NAME#log`). Their states travel in the calibration
/// statistics next to the tensors' own, so calibration blocks merge as before.
struct LowBitObservers {
    private var tokens: [Int: (width: Int, threshold: Float, observers: [QuantileObserver])] = [:]
    private var logs: [Int: QuantileObserver] = [:]
    private let names: [Int: String]

    init(graph: Graph, recipe: QuantizationRecipe, layout: LowBitLayout) {
        var options = Calibrator.observerOptions(recipe)
        options.bits = recipe.lowBit?.activationBits ?? 8
        var names: [Int: String] = [:]
        for index in layout.perPatchValues {
            let info = graph.values[index], positions = info.shape[info.shape.count - 2]
            names[index] = info.name
            tokens[index] = (info.shape[info.shape.count - 1], recipe.lowBit?.outlierThreshold ?? 5,
                             (0..<positions).map { QuantileObserver(item: Self.tokenName(info.name, $0), options: options) })
        }
        for index in layout.logValues {
            names[index] = graph.values[index].name
            logs[index] = QuantileObserver(item: Self.logName(graph.values[index].name), options: options)
        }
        self.names = names
    }

    static func tokenName(_ value: String, _ position: Int) -> String { "\(value)#token\(position)" }
    static func logName(_ value: String) -> String { "\(value)#log" }

    mutating func observe(_ index: Int, _ values: UnsafeBufferPointer<Float>) throws {
        if var entry = tokens[index] {
            var kept = [Float]()
            kept.reserveCapacity(entry.width)
            for row in 0..<(values.count / entry.width) {
                kept.removeAll(keepingCapacity: true)
                for v in values[(row * entry.width)..<((row + 1) * entry.width)] where !(abs(v) > entry.threshold) { kept.append(v) }
                try entry.observers[row % entry.observers.count].observe(kept)
            }
            tokens[index] = entry
        }
        if logs[index] != nil { try logs[index]?.observe(values) }
    }

    var states: [String: ObserverState] {
        var result: [String: ObserverState] = [:]
        for (index, entry) in tokens {
            for (position, observer) in entry.observers.enumerated() { result[Self.tokenName(names[index] ?? "", position)] = observer.state }
        }
        for (index, observer) in logs { result[Self.logName(names[index] ?? "")] = observer.state }
        return result
    }

    /// Fills `plan.perToken` and `plan.logCodes` from the merged statistics.
    static func parameters(into plan: inout QuantizationPlan, graph: Graph, layout: LowBitLayout, statistics: CalibrationStatistics) throws {
        guard let lowBit = plan.recipe.lowBit, !(layout.perPatchValues.isEmpty && layout.logValues.isEmpty) else { return }
        var options = Calibrator.observerOptions(plan.recipe)
        options.bits = lowBit.activationBits
        func merged(_ name: String) throws -> QuantileObserver {
            var observer = QuantileObserver(item: name, options: options)
            if let state = statistics.observers[name] { try observer.merge(state) }
            return observer
        }
        var perToken: [String: PerTokenQuant] = [:]
        for index in layout.perPatchValues.sorted() {
            let info = graph.values[index]
            let params = try (0..<info.shape[info.shape.count - 2]).map { position -> QuantParams in
                // A position whose every value was an outlier has nothing to quantize.
                let range = (try? merged(tokenName(info.name, position)).calibratedRange()) ?? (0, 0)
                return .affine(min: range.0, max: range.1, bits: lowBit.activationBits, symmetric: false)
            }
            perToken[info.name] = PerTokenQuant(params, threshold: lowBit.outlierThreshold)
        }
        var logCodes: [String: LogCodeQuant] = [:]
        for index in layout.logValues.sorted() {
            let name = graph.values[index].name
            let (shift, delta) = try merged(logName(name)).shiftLogParameters(bits: lowBit.activationBits)
            logCodes[name] = LogCodeQuant(bits: lowBit.activationBits, delta: delta, shift: shift)
        }
        plan.perToken = perToken.isEmpty ? nil : perToken
        plan.logCodes = logCodes.isEmpty ? nil : logCodes
    }
}

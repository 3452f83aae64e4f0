import Foundation
import OnboardCore
import OnboardQuant

/// The observer states of a calibration over a block of samples: what `Calibrator.observe` returns
/// and `Calibrator.plan` turns into a plan. Statistics of consecutive blocks, merged in order, equal
/// those of one run over all of them, exactly, for every observer but `ema` (see `ObserverState`).
public struct CalibrationStatistics: Codable, Equatable, Sendable {
    public var format = CalibrationStatistics.formatName
    public var version = 1
    /// The recipe the samples were observed with (its observer kind, stabilized logits, deferred softmaxes).
    public var recipe: QuantizationRecipe
    /// The calibration samples observed, by index in the calibration set.
    public var samples: Range<Int>
    /// Observer state by activation value name.
    public var observers: [String: ObserverState]

    static let formatName = "onboard-calibration-statistics"

    public init(recipe: QuantizationRecipe, samples: Range<Int>, observers: [String: ObserverState]) {
        self.recipe = recipe
        self.samples = samples
        self.observers = observers
    }

    /// Appends the statistics of the block of samples that follows this one. Throws an OnboardError
    /// naming the field for another format, recipe or set of values, a block that does not start
    /// where this one ends, or an `ema` recipe when both blocks have samples.
    public mutating func merge(_ other: CalibrationStatistics) throws {
        try checkFormat()
        try other.checkFormat()
        try checkRecipe(other.recipe)
        guard other.samples.lowerBound == samples.upperBound else {
            throw Self.mismatch("samples", "this part ends before sample \(samples.upperBound), the part merged in covers \(other.samples)")
        }
        try checkValueNames(Set(other.observers.keys))
        if !recipe.observer.mergesExactly && !samples.isEmpty && !other.samples.isEmpty {
            throw ObserverKind.emaMergeError(item: "calibration statistics")
        }
        let options = Calibrator.observerOptions(recipe)
        var merged: [String: ObserverState] = [:]
        for (name, state) in observers {
            var observer = makeObserver(state.kind, item: name, options: options)
            try observer.merge(state)
            if let next = other.observers[name] { try observer.merge(next) }
            merged[name] = observer.state
        }
        observers = merged
        samples = samples.lowerBound..<other.samples.upperBound
    }

    public static func load(path: String) throws -> CalibrationStatistics {
        let data = try InputFile.read(path, what: "calibration statistics")
        let statistics = try JSONInput.decode(CalibrationStatistics.self, from: data, path: path)
        do {
            try statistics.checkFormat()
        } catch let error as OnboardError {
            throw OnboardError.format(path: path, item: "format", reason: "\(error)")
        }
        return statistics
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile(path: path).write(bytes: Array(try encoder.encode(self)))
    }

    func checkFormat() throws {
        guard format == Self.formatName, version == 1 else {
            throw Self.mismatch("format", "'\(format)' version \(version) is not \(Self.formatName) version 1")
        }
    }

    func checkRecipe(_ other: QuantizationRecipe) throws {
        guard recipe != other else { return }
        throw Self.mismatch("recipe.\(Self.firstDifference(recipe, other))", "the statistics were observed with another recipe")
    }

    /// Every observed value, and no other, has a state.
    func checkValueNames(_ names: Set<String>) throws {
        if let missing = names.subtracting(observers.keys).sorted().first {
            throw Self.mismatch("observers.\(missing)", "this part has no state for the value")
        }
        if let extra = Set(observers.keys).subtracting(names).sorted().first {
            throw Self.mismatch("observers.\(extra)", "the other side has no state for the value")
        }
    }

    static func mismatch(_ field: String, _ reason: String) -> OnboardError {
        .model(item: "calibration statistics", reason: "field '\(field)': \(reason)")
    }

    /// The first top-level recipe key (as written in JSON) whose values differ.
    static func firstDifference(_ a: QuantizationRecipe, _ b: QuantizationRecipe) -> String {
        func keyed(_ recipe: QuantizationRecipe) -> [String: Data] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            guard let data = try? encoder.encode(recipe),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object.compactMapValues { try? JSONSerialization.data(withJSONObject: [$0], options: .sortedKeys) }
        }
        let x = keyed(a), y = keyed(b)
        return Set(x.keys).union(y.keys).sorted().first { x[$0] != y[$0] } ?? "observer"
    }
}

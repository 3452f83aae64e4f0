extension Tensor {
    /// Flat index of the first NaN or infinity of an f32 tensor; nil when every element is finite.
    public var firstNonFiniteIndex: Int? { withFloats { $0.firstNonFiniteIndex } }

    /// Throws when an element is NaN or infinite; the error names `source`, `name` and the element.
    public func requireFinite(name: String, source: String) throws {
        if let bad = firstNonFiniteIndex {
            throw OnboardError.format(path: source, item: name, reason: "element \(bad) is not finite")
        }
    }
}

extension Tensor {
    /// Throws when an element is NaN or infinite; the error names `source`, `name` and the element.
    public func requireFinite(name: String, source: String) throws {
        if let bad = withFloats({ $0.firstIndex { !$0.isFinite } }) {
            throw OnboardError.format(path: source, item: name, reason: "element \(bad) is not finite")
        }
    }
}

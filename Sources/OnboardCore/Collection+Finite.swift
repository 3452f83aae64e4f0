/// The "every value is a number" check that inputs, weights and configs get before use.
extension Collection where Element: FloatingPoint {
    /// Index of the first NaN or infinity; nil when every element is finite.
    public var firstNonFiniteIndex: Index? { firstIndex { !$0.isFinite } }

    /// Whether every element is finite (no NaN, no infinity); true when empty.
    public var allFinite: Bool { allSatisfy(\.isFinite) }
}

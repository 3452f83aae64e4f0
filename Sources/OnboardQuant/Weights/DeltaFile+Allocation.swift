extension DeltaFile {
    /// Tensors with at most this many changed values (biases, norms, small tables such as PETR's
    /// reference points) are kept at the best the encoder has (ratio 1: every value, 8-bit codes):
    /// they cost little, and at the shared ratio their row scales alone would exceed their budget,
    /// which dropped PETR's reference points and class biases from its 16x delta.
    static let smallTensorValues = 1024

    /// Each changed tensor's ratio: 1 for a small tensor, `changedRatio` for the others.
    static func tensorRatios(_ changed: [ChangedTensor], changedRatio: Double) -> [Double] {
        changed.map { $0.delta.count <= smallTensorValues ? 1 : changedRatio }
    }
}

import OnboardGraph

extension VimConfig: ImageClassifierConfig {
    public static let configName = "vim"

    func build(weights: WeightStore, batch: Int, exposePreLogits: Bool) throws -> Graph {
        try VimBuilder.build(config: self, weights: weights, batch: batch, exposePreLogits: exposePreLogits)
    }
}

import OnboardGraph

extension ViTConfig: ImageClassifierConfig {
    public static let configName = "vit"

    func build(weights: WeightStore, batch: Int, exposePreLogits: Bool) throws -> Graph {
        try ViTBuilder.build(config: self, weights: weights, batch: batch, exposePreLogits: exposePreLogits)
    }
}

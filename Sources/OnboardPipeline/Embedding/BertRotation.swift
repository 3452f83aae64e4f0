import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardQuant

/// A recipe's `"rotation"` on a BERT encoder: OSTQuant's per-head R_qk and R_ov, one Hadamard of
/// head_dim on every head of the query, key and value outputs (random signs per layer with
/// `rotation_seed`), folded into the weights, and its online Hadamard on every FC2 input. The residual stream is not rotated: a post-LN
/// LayerNorm's mean and per-channel affine do not commute with a rotation.
enum BertRotation {
    static func rotating(
        _ transforms: BertTransforms?, config c: BertConfig, rotation: QuantizationRecipe.Rotation, seed: UInt64?
    ) throws -> BertTransforms {
        guard rotation == .hadamard else {
            throw OnboardError.invalidArgument("rotation \"\(rotation.rawValue)\" applies to a Vision Mamba; a BERT encoder takes \"hadamard\"")
        }
        var result = transforms ?? BertTransforms(layers: Array(repeating: .init(), count: c.numHiddenLayers))
        for i in result.layers.indices {
            result.layers[i].headRotation = try seed.map { try RandomHadamard(size: c.headDim, seed: $0 &+ UInt64(i)).matrix }
                ?? Hadamard(size: c.headDim).matrix
            result.layers[i].ffnOutputHadamard = true
        }
        return result
    }
}

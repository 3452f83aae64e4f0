import OnboardCore
import OnboardModels

/// Random inputs of a bundle's input shapes, for commands that time or profile a model without data
/// (`bench`, `profile`): standard normal values from a fixed seed, so runs are repeatable.
public enum SynthesizedInputs {
    public static func gaussian(for bundle: ModelBundle, batch: Int, seed: UInt64 = 0x5EED) -> [String: Tensor] {
        var generator = SplitMix64(seed: seed)
        // Sorted names: the values each input gets do not depend on dictionary order.
        var inputs: [String: Tensor] = [:]
        for (name, shape) in bundle.inputShapes(batch: batch).sorted(by: { $0.key < $1.key }) {
            let tensor = Tensor(zeros: shape)
            tensor.withMutableFloats { values in
                for i in values.indices { values[i] = generator.nextGaussian() }
            }
            inputs[name] = tensor
        }
        return inputs
    }
}

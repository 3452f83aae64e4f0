import ArgumentParser

/// `--delta D`: the fine-tuned variant `--model + D`, merged into the float weights at load.
enum DeltaOption {
    static let help = ArgumentHelp(
        "Fine-tune delta ('onboard delta compress' against --model's model.safetensors): run the variant, merged into "
            + "the float weights at load; the fine-tuned weights are never written.",
        valueName: "D")
}

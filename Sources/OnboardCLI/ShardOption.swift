import ArgumentParser
import OnboardKit

/// `--shard I/N`: usage errors (exit 2) say what is wrong with the value.
enum ShardOption {
    static let help = ArgumentHelp(
        "Run only shard I of N (0-based; the contiguous block I·n/N ..< (I+1)·n/N of the samples) and write a part "
            + "directory to --out; onboard merge joins the parts.",
        valueName: "I/N")

    static func parse(_ text: String) throws -> Shard {
        do {
            return try Shard(parsing: text)
        } catch let error as OnboardError {
            throw ValidationError(error.description.replacingOccurrences(of: "--shard: ", with: ""))
        }
    }
}

import ArgumentParser
import Foundation
import OnboardKit

extension EmbeddingRun.Precision: ExpressibleByArgument {}

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Sentence embeddings of a text file with a sentence-transformers model directory (all-MiniLM-L6-v2).",
        discussion: """
            Writes `embeddings` [N, D] (mean-pooled over real tokens and L2-normalised, as sentence-transformers \
            does) for the N lines of --text-file. int8 and int8-integer on a float model directory calibrate first on \
            the kit's calibration text with --recipe (default Configs/recipes/minilm-int8.json or minilm-int8-integer.json).
            """)

    @Option(help: "Model directory (Hugging Face BertModel + sentence-transformers files).") var model: String
    @Option(help: "UTF-8 text file, one sentence per line.") var textFile: String
    @Option(help: "safetensors file to write the embeddings to.") var out: String
    @Option(help: "fp32, int8 or int8-integer.") var precision: EmbeddingRun.Precision = .fp32
    @Option(help: "Quantization recipe (JSON) for int8 / int8-integer.") var recipe: String?
    @Option(help: DeltaOption.help) var delta: String?
    @Option(help: "Sentences of equal token length run together, up to this many.") var batch: Int = 8
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount

    mutating func validate() throws {
        guard batch >= 1, batch <= 4096 else { throw ValidationError("--batch must be in 1...4096") }
        threads = try ThreadOption.clamped(threads)
        if precision == .fp32, recipe != nil { throw ValidationError("--recipe needs --precision int8 or int8-integer") }
    }

    func run() throws {
        var request = EmbeddingRun.Request(model: model, textFile: textFile, out: out)
        (request.precision, request.recipe, request.batch, request.threads) = (precision, recipe, batch, threads)
        request.delta = delta
        let summary = try EmbeddingRun.run(request)
        print("\(summary.sentences) embeddings of \(summary.width) (\(precision.rawValue)) in \(String(format: "%.2f", summary.seconds)) s -> \(out)")
    }
}

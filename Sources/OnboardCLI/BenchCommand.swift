import ArgumentParser
import OnboardKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time a model bundle on random inputs and report latency and memory.")

    @Option(help: "Model bundle directory.") var model: String
    @Option(help: "Numeric precision.") var precision: Precision = .fp32
    @Option(help: "Timed iterations (after warm-up).") var iterations: Int = 20
    @Option(help: "Untimed warm-up iterations.") var warmup: Int = 3
    @Option(help: "Worker threads (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Batch size.") var batch: Int = 1
    @Option(help: "Sentence encoders: tokens per sequence (default: the model's max_seq_length).") var sequenceLength: Int?
    @Option(help: "Sentence encoders: the recipe INT8 calibrates a float directory with (default Configs/recipes/minilm-int8.json).") var recipe: String?
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Flag(help: "Add the time per op kind (profiled run after the timed ones).") var profile = false

    mutating func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations must be >= 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0") }
        guard batch >= 1 else { throw ValidationError("--batch must be >= 1") }
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        var request = Benchmark.Request(model: model)
        (request.precision, request.iterations, request.warmup) = (precision, iterations, warmup)
        (request.threads, request.batch, request.profile) = (threads, batch, profile)
        (request.sequenceLength, request.recipe) = (sequenceLength, recipe)
        let (report, byKind) = try Benchmark.run(request)
        print(json ? try report.jsonText() : report.table(byKind: byKind))
    }
}

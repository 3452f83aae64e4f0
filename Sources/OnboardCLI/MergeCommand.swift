import ArgumentParser
import OnboardKit

/// `onboard merge`: the parts of a sharded detect, quantize or validate joined into what one run writes.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the parts of a sharded detect, quantize or validate into exactly what one run writes.",
        discussion: """
            Each PART is a directory that `detect`, `quantize` or `validate` wrote with --shard I/N. Give every \
            shard of one run once, in any order. OUT is what the run on one machine writes: the results file \
            (detect; byte-identical), the quantized bundle (quantize; the same plan and weights), or the report \
            directory (validate; the same results files and metrics, with latency and memory per machine). \
            Refused, naming the part and the field: missing or repeated shards, and parts of another run (model, \
            recipe, data, samples, settings, Onboard version, or numerics: kernel paths and OpenBLAS core).
            """)

    @Option(help: "The merged output: results file (detect), bundle directory (quantize) or report directory (validate).")
    var out: String
    @Argument(help: "Part directories, every shard of one run.") var parts: [String]
    @Flag(help: "Replace a directory OUT even when it holds files Onboard did not write.") var force = false
    @Option(help: "Worker threads for quantizing the weights (default: all cores).") var threads: Int = Parallel.coreCount
    @Option(help: "Where the evaluation set is on this machine (validate parts; default: where the shards read it).") var data: String?
    @Option(help: "Where the float bundle is on this machine (quantize parts; default: where the shards read it).") var model: String?

    mutating func validate() throws {
        threads = try ThreadOption.clamped(threads)
    }

    func run() throws {
        let summary = try ShardMerge.run(parts: parts, out: out, force: force, threads: threads,
                                         inputs: ShardMerge.Inputs(data: data, model: model))
        for line in summary.lines { print(line) }
    }
}

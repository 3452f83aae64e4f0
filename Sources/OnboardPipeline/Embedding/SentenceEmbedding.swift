import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels

/// Sentence embeddings of token id sequences. Graphs have static shapes and the encoder has no
/// mask, so sequences are grouped by exact length (never padded: every token is real, as in an
/// unpadded sentence-transformers call) and run in batches of up to `batch` per length.
public enum SentenceEmbedding {
    /// Rows in the order of `ids`, [N, D], L2-normalised when the model's modules normalise.
    /// - Parameters:
    ///   - runner: the runner of a graph (FP32 or INT8 executor).
    public static func embed(
        _ ids: [[Int32]], encoder: SentenceEncoder, batch: Int, runner: (Graph) throws -> any GraphRunner,
        progress: ProgressLog = .silent
    ) throws -> Tensor {
        guard batch >= 1 else { throw OnboardError.invalidArgument("batch \(batch) must be >= 1") }
        let width = encoder.config.hiddenSize
        let output = Tensor(zeros: [ids.count, width])
        var done = 0
        try forEachBatch(ids, batch: batch, encoder: encoder, runner: runner) { indices, pooled in
            for (row, index) in indices.enumerated() {
                let source = pooled.floatPointer + row * width, target = output.floatPointer + index * width
                target.update(from: source, count: width)
                if encoder.sentence.normalize { normalize(target, count: width) }
            }
            done += indices.count
            progress.progress("embed", done, ids.count)
        }
        return output
    }

    /// Calls `body` with the original indices of each batch and the graph's pooled output
    /// [b, D] for them, batches in order of increasing length. At most two runners (the full and
    /// the last, smaller, batch of a length) live at a time.
    static func forEachBatch(
        _ ids: [[Int32]], batch: Int, encoder: SentenceEncoder, runner makeRunner: (Graph) throws -> any GraphRunner,
        body: ([Int], Tensor) throws -> Void
    ) throws {
        // A runner per sequence length: each new one takes the blocks the previous ones freed.
        try AlignedBuffer.reusingFreedBlocks { try runBatches(ids, batch: batch, encoder: encoder, runner: makeRunner, body: body) }
    }

    private static func runBatches(
        _ ids: [[Int32]], batch: Int, encoder: SentenceEncoder, runner makeRunner: (Graph) throws -> any GraphRunner,
        body: ([Int], Tensor) throws -> Void
    ) throws {
        let order = ids.indices.sorted { (ids[$0].count, $0) < (ids[$1].count, $1) }
        var runners: [Int: any GraphRunner] = [:], runnersLength = -1
        var start = 0
        while start < order.count {
            let length = ids[order[start]].count
            var end = start
            while end < order.count, end - start < batch, ids[order[end]].count == length { end += 1 }
            let indices = Array(order[start..<end])
            if length != runnersLength { (runners, runnersLength) = ([:], length) }
            let runner = try runners[indices.count] ?? makeRunner(
                try encoder.graph(batch: indices.count, length: length))
            runners[indices.count] = runner
            let input = try Tensor(shape: [indices.count, length], dtype: .i32, integers: indices.flatMap { ids[$0] })
            guard let pooled = try runner.run([BertBuilder.inputName: input])[BertBuilder.outputName] else {
                throw OnboardError.model(item: encoder.bundle.directory, reason: "the graph has no output \(BertBuilder.outputName)")
            }
            try body(indices, pooled.widened())
            start = end
        }
    }

    /// `F.normalize(x, p=2, dim=1)`: x / max(|x|, 1e-12).
    static func normalize(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var sum: Float = 0
        for j in 0..<count { sum += row[j] * row[j] }
        let scale = 1 / max(sum.squareRoot(), 1e-12)
        for j in 0..<count { row[j] *= scale }
    }
}

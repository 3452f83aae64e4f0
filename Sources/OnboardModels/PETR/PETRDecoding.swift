import Foundation
import OnboardCore

/// Decoded detections of one sample.
public struct PETRDetections: Sendable {
    /// [K, 9]: x, y, z_bottom, w, l, h, yaw, vx, vy (mmdet3d 0.17 LiDAR box layout).
    public let boxes: Tensor
    /// [K] sigmoid class scores, best first.
    public let scores: Tensor
    /// [K] i32 class indices (into `class_names`).
    public let labels: Tensor
    /// [K] i32 query index of each box.
    public let queries: Tensor

    public var count: Int { scores.count }
}

/// The official head's box arithmetic: `PETRHead.forward`'s centre decoding and
/// `NMSFreeCoder.decode_single` + `PETRHead.get_bboxes`.
public enum PETRDecoding {
    /// `all_bbox_preds` [L, Q, 10] from the raw reg-branch output: channels 0, 1 (x, y) and 4 (z)
    /// become sigmoid(raw + inverse_sigmoid(reference)) scaled to `pc_range`; the others (log w,
    /// log l, log h, sin, cos, vx, vy) stay raw.
    public static func bboxPredictions(raw: Tensor, referencePoints: [Float], pcRange: [Float]) throws -> Tensor {
        let code = PETRConfig.Head.codeSize
        guard raw.dtype == .f32, raw.rank == 3, raw.shape[2] == code, referencePoints.count == raw.shape[1] * 3,
              pcRange.count == 6 else {
            throw OnboardError.shape(item: "bbox_raw", reason: "\(raw.shape) does not fit \(referencePoints.count / 3) reference points")
        }
        let (layers, queries) = (raw.shape[0], raw.shape[1])
        let out = raw.copied()
        let y = out.floatPointer
        let logits = referencePoints.map { PETRGeometry.inverseSigmoid(Double($0)) }
        // (channel, reference axis, pc_range axis)
        let centres = [(0, 0, 0), (1, 1, 1), (4, 2, 2)]
        for layer in 0..<layers {
            for query in 0..<queries {
                let row = y + (layer * queries + query) * code
                for (channel, axis, range) in centres {
                    let unit = sigmoid(Double(row[channel]) + logits[query * 3 + axis])
                    let low = Double(pcRange[range]), high = Double(pcRange[range + 3])
                    row[channel] = Float(unit * (high - low) + low)
                }
            }
        }
        return out
    }

    /// NMSFreeCoder on the last layer: sigmoid scores over Q x C, the `max_num` best (ties by
    /// flat index), label = index % C, query = index / C; boxes [cx, cy, cz, exp w, exp l, exp h,
    /// atan2(sin, cos), vx, vy] kept when the centre lies in `post_center_range` and (when the
    /// threshold is set and non-zero) the score exceeds `score_threshold`; then z_bottom = cz - h / 2.
    public static func decode(classScores: Tensor, bboxPredictions: Tensor, head: PETRConfig.Head) throws -> PETRDetections {
        let code = PETRConfig.Head.codeSize
        guard classScores.rank == 3, bboxPredictions.rank == 3, classScores.shape[0] == bboxPredictions.shape[0],
              classScores.shape[1] == bboxPredictions.shape[1], bboxPredictions.shape[2] == code,
              classScores.dtype == .f32, bboxPredictions.dtype == .f32 else {
            throw OnboardError.shape(item: "PETR outputs",
                                     reason: "cls \(classScores.shape) and bbox \(bboxPredictions.shape) do not fit [L, Q, C] and [L, Q, 10]")
        }
        let (layers, queries, classes) = (classScores.shape[0], classScores.shape[1], classScores.shape[2])
        let flat = queries * classes
        let logits = UnsafeBufferPointer(start: classScores.floatPointer + (layers - 1) * flat, count: flat)
        let preds = bboxPredictions.floatPointer + (layers - 1) * queries * code
        // Sigmoid is monotonic: rank by logit (no float saturation ties), ties by index.
        let order = topIndices(logits, count: min(head.maxNum, flat))
        let threshold = head.scoreThreshold.flatMap { $0 == 0 ? nil : Double($0) }
        var boxes: [Float] = [], scores: [Float] = [], labels: [Int32] = [], picked: [Int32] = []
        boxes.reserveCapacity(9 * order.count)
        for index in order {
            let score = sigmoid(Double(logits[index]))
            let query = index / classes, p = preds + query * code
            let centre = (Double(p[0]), Double(p[1]), Double(p[4]))
            if let range = head.postCenterRange {
                guard centre.0 >= Double(range[0]), centre.0 <= Double(range[3]), centre.1 >= Double(range[1]),
                      centre.1 <= Double(range[4]), centre.2 >= Double(range[2]), centre.2 <= Double(range[5]) else { continue }
            }
            if let threshold, !(Float(score) > Float(threshold)) { continue }
            let height = exp(Double(p[5]))
            boxes += [centre.0, centre.1, centre.2 - height * 0.5, exp(Double(p[2])), exp(Double(p[3])), height,
                      atan2(Double(p[6]), Double(p[7])), Double(p[8]), Double(p[9])].map(Float.init)
            scores.append(Float(score))
            labels.append(Int32(index % classes))
            picked.append(Int32(query))
        }
        let count = scores.count
        return PETRDetections(boxes: try Tensor(shape: [count, 9], values: boxes),
                              scores: try Tensor(shape: [count], values: scores),
                              labels: try Tensor(shape: [count], dtype: .i32, integers: labels),
                              queries: try Tensor(shape: [count], dtype: .i32, integers: picked))
    }

    /// The `count` largest logits' indices, largest first and ties by index: the first `count`
    /// of the full ranking, sorting only what reaches the `count`-th largest value.
    static func topIndices(_ logits: UnsafeBufferPointer<Float>, count: Int) -> [Int] {
        guard count > 0, !logits.isEmpty else { return [] }
        var values = Array(logits)
        let k = min(count, values.count)
        let cutoff = kthLargest(&values, k)
        let ranked = { (a: Int, b: Int) in logits[a] != logits[b] ? logits[a] > logits[b] : a < b }
        guard !cutoff.isNaN else { return Array(logits.indices.sorted(by: ranked).prefix(k)) }
        return Array(logits.indices.filter { logits[$0] >= cutoff }.sorted(by: ranked).prefix(k))
    }

    /// The k-th largest of `values` (1-based), by quickselect; reorders `values`.
    static func kthLargest(_ values: inout [Float], _ k: Int) -> Float {
        var (low, high, target) = (0, values.count - 1, k - 1)
        while low < high {
            let pivot = values[(low + high) / 2]
            var (i, j) = (low, high)
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return values[target] }
        }
        return values[target]
    }

    @inline(__always)
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
}

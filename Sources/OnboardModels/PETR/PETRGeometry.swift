import Foundation
import OnboardCore

/// The shape- and camera-dependent inputs of the PETR head, computed outside the graph as the
/// official `PETRHead.position_embeding`, `SinePositionalEncoding3D` and `pos2posemb3d` do
/// (reference §2 and §5 of petr-qpetr-nuscenes.md). Arithmetic is in Double, results in f32.
public enum PETRGeometry {
    /// mmdet `inverse_sigmoid`: x clamped to [0, 1], then log(x / (1 - x)) with both clamped at eps.
    @inline(__always)
    public static func inverseSigmoid(_ x: Double, eps: Double = 1e-5) -> Double {
        let clamped = min(max(x, 0), 1)
        return log(max(clamped, eps) / max(1 - clamped, eps))
    }

    /// Depths of the frustum points: LID `start + (far - start) * k (k + 1) / (D (D + 1))` or UID
    /// `start + (far - start) * k / D`, k = 0 ..< D, with far = position_range[3].
    public static func depthBins(_ head: PETRConfig.Head) -> [Double] {
        let d = Double(head.depthNum), start = Double(head.depthStart), far = Double(head.positionRange[3])
        return (0..<head.depthNum).map { k in
            let k = Double(k)
            return head.lid ? start + (far - start) / (d * (1 + d)) * k * (k + 1) : start + (far - start) / d * k
        }
    }

    /// `inverse_sigmoid` of the normalized 3D points of every feature cell and depth bin, as the
    /// head's `coords3d` input: [N, depth_num * 3, h, w], channel = depth * 3 + axis.
    ///
    /// - Parameters:
    ///   - imageSize: the padded network input [H, W]; cell (i, j) sits at pixel (j W / w, i H / h).
    ///   - lidar2img: [N, 4, 4] f32; each matrix must be finite and invertible.
    ///   - source: names the file in errors.
    public static func coords3d(head: PETRConfig.Head, imageSize: [Int], featureSize: [Int], lidar2img: Tensor,
                                source: String, threads: Int = Parallel.coreCount) throws -> Tensor {
        let n = lidar2img.shape.first ?? 0
        let inverses = try invertedCameras(lidar2img, source: source)
        let (h, w) = (featureSize[0], featureSize[1])
        let depths = depthBins(head)
        let range = head.positionRange.map(Double.init)
        let channels = head.positionChannels
        let out = Tensor(zeros: [n, channels, h, w])
        nonisolated(unsafe) let y = out.floatPointer
        let plane = h * w
        // Cameras write disjoint planes: one camera per worker.
        Parallel.forRanges(count: n, threads: max(1, min(n, threads))) { cameras in
            for camera in cameras {
                let m = inverses[camera]
                for (k, depth) in depths.enumerated() {
                    for i in 0..<h {
                        let v = Double(i) * Double(imageSize[0]) / Double(h)
                        for j in 0..<w {
                            let u = Double(j) * Double(imageSize[1]) / Double(w)
                            for axis in 0..<3 {
                                let value = rayPoint(m, u: u, v: v, depth: depth, axis: axis)
                                let normalized = (value - range[axis]) / (range[axis + 3] - range[axis])
                                y[((camera * channels) + k * 3 + axis) * plane + i * w + j] = Float(inverseSigmoid(normalized))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Coordinate `axis` (lidar frame) of the point `depth` metres along the ray of pixel (u, v), from
    /// the inverse of lidar2img `m` (row-major): m @ [u d', v d', d, 1] with d' = max(d, 1e-5), as the
    /// official `position_embeding` does. Pixels are feature cells' top-left corners on the padded input.
    @inline(__always)
    static func rayPoint(_ m: [Double], u: Double, v: Double, depth: Double, axis: Int) -> Double {
        let scaled = max(depth, 1e-5), row = axis * 4
        return m[row] * (u * scaled) + m[row + 1] * (v * scaled) + m[row + 2] * depth + m[row + 3]
    }

    /// The inverse of each camera's lidar2img (row-major 4x4 in Double); throws naming the tensor
    /// when one is not finite or not invertible.
    public static func invertedCameras(_ lidar2img: Tensor, source: String) throws -> [[Double]] {
        guard lidar2img.dtype == .f32, lidar2img.rank == 3, lidar2img.shape[1] == 4, lidar2img.shape[2] == 4 else {
            throw OnboardError.format(path: source, item: "lidar2img",
                                      reason: "\(lidar2img.dtype) \(lidar2img.shape), expected f32 [N, 4, 4]")
        }
        let values = lidar2img.floats().map(Double.init)
        return try (0..<lidar2img.shape[0]).map { camera in
            let matrix = Array(values[(camera * 16)..<(camera * 16 + 16)])
            guard matrix.allFinite else {
                throw OnboardError.format(path: source, item: "lidar2img", reason: "camera \(camera) has a non-finite element")
            }
            guard let inverse = invert4x4(matrix) else {
                throw OnboardError.format(path: source, item: "lidar2img", reason: "camera \(camera)'s matrix is singular")
            }
            return inverse
        }
    }

    /// Gauss-Jordan inverse with partial pivoting of a row-major 4x4 matrix; nil when a pivot
    /// vanishes relative to the matrix's scale (singular) or the result is not finite.
    public static func invert4x4(_ matrix: [Double]) -> [Double]? {
        guard matrix.count == 16 else { return nil }
        var a = matrix
        var inverse = (0..<16).map { $0 % 5 == 0 ? 1.0 : 0.0 }
        let scale = matrix.map(abs).max() ?? 0
        guard scale > 0 else { return nil }
        for column in 0..<4 {
            guard let pivotRow = (column..<4).max(by: { abs(a[$0 * 4 + column]) < abs(a[$1 * 4 + column]) }),
                  abs(a[pivotRow * 4 + column]) > 1e-12 * scale else { return nil }
            if pivotRow != column {
                for k in 0..<4 {
                    a.swapAt(pivotRow * 4 + k, column * 4 + k)
                    inverse.swapAt(pivotRow * 4 + k, column * 4 + k)
                }
            }
            let pivot = a[column * 4 + column]
            for k in 0..<4 {
                a[column * 4 + k] /= pivot
                inverse[column * 4 + k] /= pivot
            }
            for row in 0..<4 where row != column {
                let factor = a[row * 4 + column]
                guard factor != 0 else { continue }
                for k in 0..<4 {
                    a[row * 4 + k] -= factor * a[column * 4 + k]
                    inverse[row * 4 + k] -= factor * inverse[column * 4 + k]
                }
            }
        }
        return inverse.allFinite ? inverse : nil
    }

    /// `temperature ** (2 * (k // 2) / numFeats)`, k = 0 ..< numFeats.
    static func frequencies(_ numFeats: Int, temperature: Double = 10000) -> [Double] {
        (0..<numFeats).map { pow(temperature, Double(2 * ($0 / 2)) / Double(numFeats)) }
    }

    /// `SinePositionalEncoding3D(num_feats, normalize=True)` of the all-zero (camera, row, column)
    /// mask: [N, 3 * numFeats, h, w]. Axes in (camera, y, x) order; per axis all sines (even k)
    /// come first, then all cosines (odd k).
    public static func sineEncoding3D(cameras: Int, height: Int, width: Int, numFeats: Int) -> Tensor {
        let scale = 2 * Double.pi, eps = 1e-6
        let dims = frequencies(numFeats)
        let half = numFeats / 2
        let out = Tensor(zeros: [cameras, 3 * numFeats, height, width])
        let y = out.floatPointer
        let plane = height * width
        func write(_ camera: Int, _ axis: Int, _ i: Int, _ j: Int, _ embed: Double) {
            let base = (camera * 3 * numFeats + axis * numFeats) * plane + i * width + j
            for k in 0..<half {
                y[base + k * plane] = Float(sin(embed / dims[2 * k]))
                y[base + (half + k) * plane] = Float(cos(embed / dims[2 * k + 1]))
            }
        }
        for camera in 0..<cameras {
            for i in 0..<height {
                for j in 0..<width {
                    write(camera, 0, i, j, Double(camera + 1) / (Double(cameras) + eps) * scale)
                    write(camera, 1, i, j, Double(i + 1) / (Double(height) + eps) * scale)
                    write(camera, 2, i, j, Double(j + 1) / (Double(width) + eps) * scale)
                }
            }
        }
        return out
    }

    /// `pos2posemb3d` of reference points [Q, 3] (row-major): [Q, 3 * numFeats]; per axis sin and
    /// cos interleaved (sin at even k, cos at odd k); axes in (y, x, z) order.
    public static func pos2posemb3d(_ points: [Float], numFeats: Int) -> Tensor {
        let q = points.count / 3
        let dims = frequencies(numFeats)
        let out = Tensor(zeros: [q, 3 * numFeats])
        let y = out.floatPointer
        for row in 0..<q {
            for (slot, axis) in [1, 0, 2].enumerated() {
                let position = Double(points[row * 3 + axis]) * 2 * Double.pi
                let base = row * 3 * numFeats + slot * numFeats
                for k in 0..<numFeats {
                    let angle = position / dims[k]
                    y[base + k] = Float(k % 2 == 0 ? sin(angle) : cos(angle))
                }
            }
        }
        return out
    }
}

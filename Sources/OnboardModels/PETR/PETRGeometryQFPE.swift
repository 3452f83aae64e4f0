import OnboardCore

extension PETRGeometry {
    /// The position-embedding input the head's `pe` asks for: frustum coordinates (official PETR)
    /// or QFPE interpolation weights.
    public static func positionInput(head: PETRConfig.Head, imageSize: [Int], featureSize: [Int], lidar2img: Tensor,
                                     source: String, threads: Int = Parallel.coreCount) throws -> Tensor {
        if head.pe == "qfpe", let qfpe = head.qfpe {
            return try qfpeWeights(qfpe, imageSize: imageSize, featureSize: featureSize, lidar2img: lidar2img, source: source)
        }
        return try coords3d(head: head, imageSize: imageSize, featureSize: featureSize, lidar2img: lidar2img, source: source,
                            threads: threads)
    }

    /// Q-PETR's QFPE input: each feature cell's pixel ray (cell corner as in the official embedding)
    /// sampled at one point, `qfpe.depth` metres deep, moved to the lidar frame; per axis the point
    /// is clamped to the anchors' span and written as linear-interpolation weights over the two
    /// neighbouring anchors (a convex combination). [N, sum(anchors), h, w], channel = axis-major.
    /// No inverse sigmoid: the weights are in [0, 1], so the embedding stays on the anchors' scale.
    public static func qfpeWeights(_ qfpe: PETRConfig.Head.QFPE, imageSize: [Int], featureSize: [Int], lidar2img: Tensor,
                                   source: String) throws -> Tensor {
        let n = lidar2img.shape.first ?? 0
        let inverses = try invertedCameras(lidar2img, source: source)
        let (h, w) = (featureSize[0], featureSize[1])
        let anchors = qfpe.anchors.map { $0.map(Double.init) }
        let offsets = anchors.indices.map { axis in anchors[..<axis].reduce(0) { $0 + $1.count } }
        let channels = anchors.reduce(0) { $0 + $1.count }
        let depth = Double(qfpe.depth)
        let out = Tensor(zeros: [n, channels, h, w])
        let y = out.floatPointer
        let plane = h * w
        for camera in 0..<n {
            let m = inverses[camera]
            for i in 0..<h {
                let v = Double(i) * Double(imageSize[0]) / Double(h)
                for j in 0..<w {
                    let u = Double(j) * Double(imageSize[1]) / Double(w)
                    for axis in 0..<3 {
                        let (index, t) = segment(rayPoint(m, u: u, v: v, depth: depth, axis: axis), anchors[axis])
                        let base = (camera * channels + offsets[axis] + index) * plane + i * w + j
                        y[base] = Float(1 - t)
                        y[base + plane] = Float(t)
                    }
                }
            }
        }
        return out
    }

    /// The anchor segment holding `x` (clamped to the span) and the position t in [0, 1] within it.
    static func segment(_ x: Double, _ anchors: [Double]) -> (index: Int, t: Double) {
        let last = anchors.count - 1
        let clamped = min(max(x, anchors[0]), anchors[last])
        var index = 0
        while index < last - 1 && clamped >= anchors[index + 1] { index += 1 }
        let t = (clamped - anchors[index]) / (anchors[index + 1] - anchors[index])
        return (index, min(max(t, 0), 1))
    }
}

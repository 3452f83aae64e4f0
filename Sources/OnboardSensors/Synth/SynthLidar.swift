import Foundation

/// A spinning lidar simulated by ray casting against the ground and the boxes: it gives each
/// box's `num_lidar_pts` and a point cloud for the LIDAR_TOP file.
public struct SynthLidar: Sendable {
    /// Beam elevations from `lowestElevation` to `highestElevation` degrees (HDL-32E-like).
    public var beams = 32
    public var azimuthSteps = 1080
    public var lowestElevation = -30.67
    public var highestElevation = 10.67
    public var maxRange = 80.0
    /// Ground returns kept in the file: every n-th azimuth (the file is a light stand-in for a scan).
    public var groundDecimation = 8

    public init() {}

    public struct Scan: Sendable {
        /// Hits per box.
        public var pointsPerBox: [Int]
        /// x, y, z, intensity, ring index per point, in the lidar frame (nuScenes .pcd.bin layout).
        public var points: [Float]
    }

    public func scan(_ world: SynthWorld, lidarToGlobal: RigidTransform) -> Scan {
        var perBox = [Int](repeating: 0, count: world.boxes.count)
        var points: [Float] = []
        let origin = lidarToGlobal.translation
        let toLidar = lidarToGlobal.inverse
        let all = Array(world.boxes.indices)
        for ring in 0..<beams {
            let elevation = (lowestElevation + (highestElevation - lowestElevation) * Double(ring) / Double(max(beams - 1, 1))) * .pi / 180
            for step in 0..<azimuthSteps {
                let azimuth = 2 * Double.pi * Double(step) / Double(azimuthSteps)
                let local = SIMD3(cos(elevation) * cos(azimuth), cos(elevation) * sin(azimuth), sin(elevation))
                let d = lidarToGlobal.rotation * local
                var maxT = maxRange
                var groundHit = false
                if d.z < -1e-9 {
                    let t = -origin.z / d.z
                    if t < maxT { maxT = t; groundHit = true }
                }
                if let hit = world.firstHit(origin: origin, direction: d, candidates: all, maxT: maxT) {
                    perBox[hit.index] += 1
                    append(toLidar.apply(origin + hit.t * d), intensity: 50, ring: ring, to: &points)
                } else if groundHit && step % max(groundDecimation, 1) == 0 {
                    append(toLidar.apply(origin + maxT * d), intensity: 10, ring: ring, to: &points)
                }
            }
        }
        return Scan(pointsPerBox: perBox, points: points)
    }

    private func append(_ p: SIMD3<Double>, intensity: Float, ring: Int, to points: inout [Float]) {
        points += [Float(p.x), Float(p.y), Float(p.z), intensity, Float(ring)]
    }
}

import Foundation

/// A box placed in the world at one instant, with what the renderer needs to shade it.
public struct SynthBox: Sendable {
    public let id: Int
    public let cls: SynthClass
    public let center: SIMD3<Double>
    /// Width, length, height.
    public let size: SIMD3<Double>
    public let yaw: Double
    let color: SIMD3<Double>

    var rotation: Matrix3 { Quaternion(yaw: yaw).matrix }

    /// Ray (origin o, direction d, global) -> entry parameter t > minT, the entry face's axis
    /// (0 length, 1 width, 2 height) and sign, and the hit point in the box frame.
    func intersect(origin o: SIMD3<Double>, direction d: SIMD3<Double>, minT: Double) -> (t: Double, axis: Int, sign: Double, local: SIMD3<Double>)? {
        let c = cos(yaw), s = sin(yaw)
        let ro = o - center
        let lo = SIMD3(c * ro.x + s * ro.y, -s * ro.x + c * ro.y, ro.z)
        let ld = SIMD3(c * d.x + s * d.y, -s * d.x + c * d.y, d.z)
        let half = SIMD3(size.y / 2, size.x / 2, size.z / 2)   // x along length, y along width
        var near = -Double.infinity, far = Double.infinity, axis = 0, sign = 1.0
        for a in 0..<3 {
            if abs(ld[a]) < 1e-12 {
                if abs(lo[a]) > half[a] { return nil }
                continue
            }
            let t1 = (-half[a] - lo[a]) / ld[a], t2 = (half[a] - lo[a]) / ld[a]
            let tn = min(t1, t2), tf = max(t1, t2)
            if tn > near { near = tn; axis = a; sign = ld[a] > 0 ? -1 : 1 }
            far = min(far, tf)
            if near > far { return nil }
        }
        guard near > minT, near <= far else { return nil }
        return (near, axis, sign, lo + near * ld)
    }
}

/// Everything visible at one sample: boxes, the road frame and the lighting.
public struct SynthWorld: Sendable {
    public let boxes: [SynthBox]
    /// Road origin and heading (lane markings run along it).
    let roadOrigin: SIMD3<Double>
    let roadHeading: Double
    /// Brightness gain and per-pixel noise amplitude.
    let gain: Double
    let noise: Double
    let noiseSeed: UInt64
    let sun: SIMD3<Double>

    /// Nearest box hit along a ray: (box index, t, shade colour).
    func firstHit(origin: SIMD3<Double>, direction: SIMD3<Double>, candidates: [Int], maxT: Double) -> (index: Int, t: Double, local: SIMD3<Double>, axis: Int, sign: Double)? {
        var best: (index: Int, t: Double, local: SIMD3<Double>, axis: Int, sign: Double)?
        var bestT = maxT
        for i in candidates {
            if let hit = boxes[i].intersect(origin: origin, direction: direction, minT: 1e-6), hit.t < bestT {
                bestT = hit.t
                best = (i, hit.t, hit.local, hit.axis, hit.sign)
            }
        }
        return best
    }
}

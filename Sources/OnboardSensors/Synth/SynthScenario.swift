import Foundation
import OnboardCore

/// One synthetic scene: a straight, slowly turning ego drive and objects moving at constant
/// velocity. Everything derives from the seed and the scene index.
public struct SynthScenario: Sendable {
    public struct Object: Sendable {
        public let cls: SynthClass
        public let size: SIMD3<Double>
        /// Centre at `startTime`.
        public let start: SIMD3<Double>
        public let yaw: Double
        public let velocity: SIMD3<Double>
        let color: SIMD3<Double>
    }

    public let startTime: Int64
    public let origin: SIMD3<Double>
    public let heading: Double
    public let egoSpeed: Double
    public let yawRate: Double
    public let objects: [Object]
    let sun: SIMD3<Double>

    /// `extraObjects` random-class objects come on top of one object of each of the ten classes.
    public init(seed: UInt64, sceneIndex: Int, samples: Int, sampleInterval: Int64, extraObjects: Int) {
        var rng = SplitMix64(seed: SynthShading.hash(seed, UInt64(sceneIndex), 0x5CE9E))
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.next() >> 11) * 0x1p-53 }
        startTime = 1_533_151_603_547_590 + Int64(sceneIndex) * 60_000_000
        origin = SIMD3(400 + 300 * Double(sceneIndex), 900 + 37 * Double(sceneIndex), 0)
        heading = uniform(-.pi, .pi)
        egoSpeed = uniform(0, 8)
        yawRate = uniform(-0.05, 0.05)
        let sunAzimuth = uniform(-.pi, .pi)
        sun = SIMD3(0.5 * cos(sunAzimuth), 0.5 * sin(sunAzimuth), 0.866)

        let classes = SynthClass.allCases + (0..<max(0, extraObjects)).map { _ in
            SynthClass.allCases[Int(rng.next() % UInt64(SynthClass.allCases.count))]
        }
        let (heading, egoSpeed, origin) = (self.heading, self.egoSpeed, self.origin)
        let duration = Double(sampleInterval) * 1e-6 * Double(max(samples - 1, 0))
        var placed: [Object] = []
        let egoStart = origin
        for cls in classes {
            for _ in 0..<60 {
                let size = cls.typicalSize * SIMD3(uniform(0.9, 1.1), uniform(0.9, 1.1), uniform(0.92, 1.08))
                let distance = uniform(6, 0.85 * cls.evaluationRange)
                let bearing = uniform(-.pi, .pi) + heading
                let start = SIMD3(egoStart.x + distance * cos(bearing), egoStart.y + distance * sin(bearing), size.z / 2)
                let yaw = uniform(-.pi, .pi)
                let speed = cls.maxSpeed > 0 && rng.next() % 2 == 0 ? uniform(0.5, cls.maxSpeed) : 0
                let velocity = SIMD3(speed * cos(yaw), speed * sin(yaw), 0)
                let radius = 0.5 * hypot(size.x, size.y)
                let clearOfEgo = stride(from: 0.0, through: duration, by: 0.5).allSatisfy { t in
                    let ego = Self.egoPosition(origin: origin, heading: heading, speed: egoSpeed, seconds: t)
                    let p = start + velocity * t
                    return hypot(p.x - ego.x, p.y - ego.y) > radius + 3.5
                }
                let clearOfOthers = placed.allSatisfy { other in
                    hypot(other.start.x - start.x, other.start.y - start.y) > radius + 0.5 * hypot(other.size.x, other.size.y) + 0.3
                }
                guard clearOfEgo && clearOfOthers else { continue }
                let jitter = SIMD3(uniform(-25, 25), uniform(-25, 25), uniform(-25, 25))
                let color = simd_clamp(cls.baseColor + jitter, SIMD3(repeating: 0), SIMD3(repeating: 255))
                placed.append(Object(cls: cls, size: size, start: start, yaw: yaw, velocity: velocity, color: color))
                break
            }
        }
        objects = placed
    }

    static func egoPosition(origin: SIMD3<Double>, heading: Double, speed: Double, seconds: Double) -> SIMD3<Double> {
        origin + SIMD3(cos(heading), sin(heading), 0) * (speed * seconds)
    }

    /// Ego -> global at `time` (microseconds).
    public func egoPose(at time: Int64) -> (rotation: Quaternion, translation: SIMD3<Double>) {
        let seconds = Double(time - startTime) * 1e-6
        return (Quaternion(yaw: heading + yawRate * seconds),
                Self.egoPosition(origin: origin, heading: heading, speed: egoSpeed, seconds: seconds))
    }

    /// The boxes at `time`, with the world's lighting for one sample.
    public func world(at time: Int64, gain: Double, noise: Double, noiseSeed: UInt64) -> SynthWorld {
        let seconds = Double(time - startTime) * 1e-6
        let boxes = objects.enumerated().map { i, o in
            SynthBox(id: i, cls: o.cls, center: o.start + o.velocity * seconds, size: o.size, yaw: o.yaw, color: o.color)
        }
        return SynthWorld(boxes: boxes, roadOrigin: origin, roadHeading: heading, gain: gain, noise: noise,
                          noiseSeed: noiseSeed, sun: sun)
    }
}

private func simd_clamp(_ v: SIMD3<Double>, _ lo: SIMD3<Double>, _ hi: SIMD3<Double>) -> SIMD3<Double> {
    v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
}

import Foundation
import OnboardCore

/// Colours of the ground, the sky and the class-specific box textures.
enum SynthShading {
    static func hash(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in values {
            h = (h ^ v) &* 0x100_0000_01B3
            h ^= h >> 29
        }
        var g = SplitMix64(seed: h)
        return g.next()
    }

    /// Uniform in [-1, 1) from a hash.
    static func signedUnit(_ h: UInt64) -> Double { Double(h >> 11) * 0x1p-52 - 1 }

    static func sky(direction d: SIMD3<Double>) -> SIMD3<Double> {
        let up = max(0, min(1, d.z / (d.x * d.x + d.y * d.y + d.z * d.z).squareRoot() * 3))
        return SIMD3(190, 205, 225) * (1 - up) + SIMD3(90, 140, 210) * up
    }

    static func ground(at p: SIMD3<Double>, world: SynthWorld) -> SIMD3<Double> {
        let rel = p - world.roadOrigin
        let c = cos(world.roadHeading), s = sin(world.roadHeading)
        let along = c * rel.x + s * rel.y, lateral = -s * rel.x + c * rel.y
        let cell = hash(UInt64(bitPattern: Int64((p.x * 4).rounded(.down))), UInt64(bitPattern: Int64((p.y * 4).rounded(.down))))
        let grain = signedUnit(cell) * 10
        if abs(lateral) > 12 { return SIMD3(70, 110, 55) + grain }   // verge
        let q = lateral / 3.5 - 0.5
        let toLine = abs(q - q.rounded()) * 3.5
        let dashed = abs(q.rounded()) > 0.5   // the centre pair is solid
        let inDash = along - 9 * (along / 9).rounded(.down) < 4
        if toLine < 0.08 && (!dashed || inDash) { return SIMD3(225, 225, 215) + grain / 2 }
        return SIMD3(92, 92, 96) + grain
    }

    /// Colour of a box at a point of its surface (box frame: x along length, y along width, z up).
    static func box(_ box: SynthBox, local p: SIMD3<Double>, axis: Int, sign: Double, sun: SIMD3<Double>) -> SIMD3<Double> {
        let l = box.size.y, w = box.size.x, h = box.size.z
        let u = p.x / l + 0.5, v = p.y / w + 0.5, z = p.z / h + 0.5   // each in [0, 1]
        let base = box.color
        let glass = SIMD3<Double>(45, 55, 70), tyre = SIMD3<Double>(25, 25, 25)
        var color = base
        switch box.cls {
        case .car:
            if axis != 2 && z > 0.55 && z < 0.88 { color = glass }
            if axis == 1 && z < 0.28 && (abs(u - 0.2) < 0.09 || abs(u - 0.8) < 0.09) { color = tyre }
        case .truck:
            if axis != 2 && u > 0.78 && z > 0.55 && z < 0.8 { color = glass }
            if u < 0.74 && axis != 2 { color = base * 0.6 + SIMD3(200, 200, 200) * 0.4 }
            if axis == 1 && z < 0.2 && (abs(u - 0.15) < 0.06 || abs(u - 0.85) < 0.06) { color = tyre }
        case .bus:
            if axis != 2 && z > 0.5 && z < 0.82 { color = glass }
            if z < 0.12 { color = SIMD3(200, 90, 30) }
        case .trailer:
            if abs(z - 0.35) < 0.04 { color = SIMD3(200, 40, 40) }
            if axis == 1 && z < 0.18 && abs(u - 0.2) < 0.07 { color = tyre }
        case .constructionVehicle:
            if z < 0.3 && Int(((u + z) * 12).rounded(.down)) % 2 == 0 { color = SIMD3(30, 30, 30) }
            if axis != 2 && u > 0.7 && z > 0.6 { color = glass }
        case .barrier:
            if Int((p.y + 10) / 0.4) % 2 == 0 { color = SIMD3(235, 235, 235) }
        case .trafficCone:
            if abs(z - 0.55) < 0.08 || abs(z - 0.3) < 0.05 { color = SIMD3(240, 240, 240) }
            if z < 0.08 { color = SIMD3(30, 30, 30) }
        case .pedestrian:
            if z > 0.86 { color = SIMD3(90, 60, 45) }
            else if z < 0.5 { color = SIMD3(40, 40, 55) }
        case .bicycle, .motorcycle:
            let wheel = z < 0.45 && (hypot(u - 0.2, z - 0.25) < 0.2 || hypot(u - 0.8, z - 0.25) < 0.2)
            if wheel { color = tyre } else if z > 0.6 { color = box.cls == .bicycle ? SIMD3(180, 150, 60) : SIMD3(200, 200, 205) }
        }
        _ = v
        // Lambert shading with ambient light; the face normal in the world frame.
        var local = SIMD3<Double>(0, 0, 0)
        local[axis] = sign
        let c = cos(box.yaw), s = sin(box.yaw)
        let normal = SIMD3(c * local.x - s * local.y, s * local.x + c * local.y, local.z)
        let lambert = max(0, (normal * sun).sum())
        return color * (0.45 + 0.55 * lambert)
    }
}

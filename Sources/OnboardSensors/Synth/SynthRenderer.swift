import Foundation
import OnboardCore

/// Renders one camera view of a `SynthWorld` by casting a ray through every pixel (pixel centres
/// at integer coordinates, the convention of K): ground with lane markings, sky, and the boxes
/// with a per-pixel depth test. Each pixel is a pure function of the world, so rows render in
/// parallel with identical results.
public struct SynthRenderer: Sendable {
    public struct View: Sendable {
        public let image: RGBImage
        /// Box index drawn at each pixel, -1 for ground or sky.
        public let boxIndex: [Int32]
        /// Per box: pixels where it is in front, and pixels its surface covers regardless of occlusion.
        public let visiblePixels: [Int]
        public let coveredPixels: [Int]
    }

    public let width: Int
    public let height: Int
    public let intrinsic: Matrix3
    /// Camera -> global at the camera's timestamp.
    public let cameraToGlobal: RigidTransform
    public let threads: Int

    public init(width: Int, height: Int, intrinsic: Matrix3, cameraToGlobal: RigidTransform, threads: Int) {
        self.width = width; self.height = height; self.intrinsic = intrinsic
        self.cameraToGlobal = cameraToGlobal; self.threads = threads
    }

    public func render(_ world: SynthWorld, cameraSalt: UInt64) -> View {
        let rects = world.boxes.map { screenRect(of: $0) }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var ids = [Int32](repeating: -1, count: width * height)
        let rowCounts = RowCounters(rows: height, boxes: world.boxes.count)
        let fx = intrinsic[0, 0], fy = intrinsic[1, 1], cx = intrinsic[0, 2], cy = intrinsic[1, 2]
        let r = cameraToGlobal.rotation, origin = cameraToGlobal.translation
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { px in
            ids.withUnsafeMutableBufferPointer { idBuffer in
                nonisolated(unsafe) let px = px, idBuffer = idBuffer
                Parallel.forRanges(count: height, threads: threads) { rows in
                    for y in rows {
                        let candidatesAll = rects.indices.filter { rects[$0].map { $0.y.contains(y) } ?? false }
                        for x in 0..<width {
                            let dc = SIMD3((Double(x) - cx) / fx, (Double(y) - cy) / fy, 1)
                            let d = r * dc   // t along d is the camera depth
                            var color: SIMD3<Double>
                            var maxT = Double.infinity
                            if d.z < -1e-9 {
                                let t = -origin.z / d.z
                                color = SynthShading.ground(at: origin + t * d, world: world)
                                maxT = t
                            } else {
                                color = SynthShading.sky(direction: d)
                            }
                            let candidates = candidatesAll.filter { rects[$0]!.x.contains(x) }
                            var front: Int32 = -1
                            if !candidates.isEmpty {
                                for i in candidates where world.boxes[i].intersect(origin: origin, direction: d, minT: 1e-6) != nil {
                                    rowCounts.covered[y * rowCounts.boxes + i] += 1
                                }
                                if let hit = world.firstHit(origin: origin, direction: d, candidates: candidates, maxT: maxT) {
                                    color = SynthShading.box(world.boxes[hit.index], local: hit.local, axis: hit.axis,
                                                             sign: hit.sign, sun: world.sun)
                                    front = Int32(hit.index)
                                    rowCounts.visible[y * rowCounts.boxes + hit.index] += 1
                                }
                            }
                            let n = SynthShading.signedUnit(SynthShading.hash(world.noiseSeed, cameraSalt, UInt64(y * width + x)))
                            color = color * world.gain + SIMD3(repeating: n * world.noise)
                            let o = (y * width + x) * 3
                            px[o] = Self.byte(color.x); px[o + 1] = Self.byte(color.y); px[o + 2] = Self.byte(color.z)
                            idBuffer[y * width + x] = front
                        }
                    }
                }
            }
        }
        return View(image: RGBImage(width: width, height: height, pixels: pixels), boxIndex: ids,
                    visiblePixels: rowCounts.totals(rowCounts.visible), coveredPixels: rowCounts.totals(rowCounts.covered))
    }

    static func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }

    /// Pixel rectangle that can contain the box, nil when it is wholly behind the camera.
    func screenRect(of box: SynthBox) -> (x: ClosedRange<Int>, y: ClosedRange<Int>)? {
        let toCamera = cameraToGlobal.inverse
        let rot = box.rotation
        var minU = Double.infinity, maxU = -Double.infinity, minV = Double.infinity, maxV = -Double.infinity
        var behind = 0
        for corner in 0..<8 {
            let local = SIMD3(box.size.y / 2 * (corner & 1 == 0 ? -1 : 1), box.size.x / 2 * (corner & 2 == 0 ? -1 : 1),
                              box.size.z / 2 * (corner & 4 == 0 ? -1 : 1))
            let p = toCamera.apply(rot * local + box.center)
            if p.z <= 1e-3 { behind += 1; continue }
            let u = intrinsic[0, 0] * p.x / p.z + intrinsic[0, 2], v = intrinsic[1, 1] * p.y / p.z + intrinsic[1, 2]
            minU = min(minU, u); maxU = max(maxU, u); minV = min(minV, v); maxV = max(maxV, v)
        }
        if behind == 8 { return nil }
        if behind > 0 { return (0...(width - 1), 0...(height - 1)) }
        let x0 = max(0, Int(minU.rounded(.down)) - 1), x1 = min(width - 1, Int(maxU.rounded(.up)) + 1)
        let y0 = max(0, Int(minV.rounded(.down)) - 1), y1 = min(height - 1, Int(maxV.rounded(.up)) + 1)
        guard x0 <= x1, y0 <= y1 else { return nil }
        return (x0...x1, y0...y1)
    }
}

/// Per-row counters, so parallel rows never share a slot; summed in row order afterwards.
private final class RowCounters: @unchecked Sendable {
    let boxes: Int
    let count: Int
    let visible: UnsafeMutablePointer<Int>
    let covered: UnsafeMutablePointer<Int>

    init(rows: Int, boxes: Int) {
        self.boxes = boxes
        count = rows * boxes
        visible = .allocate(capacity: max(count, 1))
        visible.initialize(repeating: 0, count: max(count, 1))
        covered = .allocate(capacity: max(count, 1))
        covered.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        visible.deallocate()
        covered.deallocate()
    }

    func totals(_ counts: UnsafeMutablePointer<Int>) -> [Int] {
        var out = [Int](repeating: 0, count: boxes)
        for i in 0..<count { out[i % boxes] += counts[i] }
        return out
    }
}

/// The devkit's `add_center_dist` and `filter_eval_boxes` (`eval/common/loaders.py`).
public enum Filters {
    /// Sets each box's translation relative to its sample's LIDAR_TOP ego pose.
    public static func addCenterDistance(_ boxes: EvalBoxes, egoTranslations: [String: SIMD3<Double>]) -> EvalBoxes {
        var out = boxes
        for token in boxes.sampleTokens {
            guard let ego = egoTranslations[token] else { continue }
            out[token] = boxes[token].map { box in
                var box = box
                box.egoTranslation = box.translation - ego
                return box
            }
        }
        return out
    }

    /// Keeps boxes inside their class range (strictly nearer than it), drops ground-truth boxes with
    /// zero lidar+radar points (predictions carry -1), then drops bicycles and motorcycles whose centre
    /// lies in one of the sample's bicycle-rack annotations.
    public static func filter(_ boxes: EvalBoxes, config: DetectionConfig,
                              bicycleRacks: [String: [EvalBox]]) -> EvalBoxes {
        var out = boxes
        for token in boxes.sampleTokens {
            let racks = bicycleRacks[token] ?? []
            out[token] = boxes[token].filter { box in
                guard let range = config.range(of: box.detectionName), box.egoDistance < range else { return false }
                guard box.numPoints != 0 else { return false }
                if box.detectionName == "bicycle" || box.detectionName == "motorcycle" {
                    return !racks.contains { isPoint(box.translation, inside: $0) }
                }
                return true
            }
        }
        return out
    }

    /// `points_in_box` for one point: project onto the box's edges from corner 0 (corner order of
    /// `Box.corners`), inclusive at the faces.
    public static func isPoint(_ point: SIMD3<Double>, inside box: EvalBox) -> Bool {
        let rotation = BoxErrors.rotationMatrix(box.rotation)
        let (w, l, h) = (box.size.x, box.size.y, box.size.z)
        func corner(_ sx: Double, _ sy: Double, _ sz: Double) -> SIMD3<Double> {
            let local = SIMD3(l / 2 * sx, w / 2 * sy, h / 2 * sz)
            return SIMD3((rotation[0] * local).sum(), (rotation[1] * local).sum(), (rotation[2] * local).sum())
                + box.translation
        }
        let p1 = corner(1, 1, 1), px = corner(-1, 1, 1), py = corner(1, -1, 1), pz = corner(1, 1, -1)
        let i = px - p1, j = py - p1, k = pz - p1
        let v = point - p1
        func within(_ axis: SIMD3<Double>) -> Bool {
            let projection = (axis * v).sum()
            return 0 <= projection && projection <= (axis * axis).sum()
        }
        return within(i) && within(j) && within(k)
    }
}

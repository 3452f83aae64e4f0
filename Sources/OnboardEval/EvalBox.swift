/// One ground-truth or predicted box in the global frame (devkit `DetectionBox`).
public struct EvalBox: Sendable, Equatable {
    public var sampleToken: String
    /// Centre, metres.
    public var translation: SIMD3<Double>
    /// Width, length, height, metres.
    public var size: SIMD3<Double>
    /// Quaternion (w, x, y, z).
    public var rotation: SIMD4<Double>
    /// vx, vy in m/s; NaN where unknown.
    public var velocity: SIMD2<Double>
    /// Translation relative to the sample's LIDAR_TOP ego pose (set by `addCenterDistance`).
    public var egoTranslation: SIMD3<Double>
    /// Lidar + radar points inside a ground-truth box; -1 for predictions.
    public var numPoints: Int
    public var detectionName: String
    /// -1 for ground truth.
    public var detectionScore: Double
    /// One of `DetectionConstants.attributeNames` or "".
    public var attributeName: String

    public init(sampleToken: String, translation: SIMD3<Double>, size: SIMD3<Double>, rotation: SIMD4<Double>,
                velocity: SIMD2<Double>, egoTranslation: SIMD3<Double> = .zero, numPoints: Int = -1,
                detectionName: String, detectionScore: Double = -1, attributeName: String = "") {
        self.sampleToken = sampleToken; self.translation = translation; self.size = size; self.rotation = rotation
        self.velocity = velocity; self.egoTranslation = egoTranslation; self.numPoints = numPoints
        self.detectionName = detectionName; self.detectionScore = detectionScore; self.attributeName = attributeName
    }

    /// xy distance to the ego vehicle (devkit `EvalBox.ego_dist`).
    public var egoDistance: Double {
        (egoTranslation.x * egoTranslation.x + egoTranslation.y * egoTranslation.y).squareRoot()
    }

    public static func == (lhs: EvalBox, rhs: EvalBox) -> Bool {
        func same<V: SIMD>(_ a: V, _ b: V) -> Bool where V.Scalar == Double {
            a.indices.allSatisfy { a[$0] == b[$0] || (a[$0].isNaN && b[$0].isNaN) }
        }
        return lhs.sampleToken == rhs.sampleToken && same(lhs.translation, rhs.translation) && same(lhs.size, rhs.size)
            && same(lhs.rotation, rhs.rotation) && same(lhs.velocity, rhs.velocity)
            && same(lhs.egoTranslation, rhs.egoTranslation) && lhs.numPoints == rhs.numPoints
            && lhs.detectionName == rhs.detectionName && lhs.detectionScore == rhs.detectionScore
            && lhs.attributeName == rhs.attributeName
    }
}

/// Boxes grouped by sample in a fixed sample order (devkit `EvalBoxes`; its `all` walks this order).
public struct EvalBoxes: Sendable, Equatable {
    public private(set) var sampleTokens: [String] = []
    public private(set) var boxesBySample: [String: [EvalBox]] = [:]

    public init() {}

    /// Appends `boxes` to the sample, registering the sample on first use.
    public mutating func add(_ boxes: [EvalBox], to sampleToken: String) {
        if boxesBySample[sampleToken] == nil { sampleTokens.append(sampleToken) }
        boxesBySample[sampleToken, default: []].append(contentsOf: boxes)
    }

    public subscript(sampleToken: String) -> [EvalBox] {
        get { boxesBySample[sampleToken] ?? [] }
        set {
            if boxesBySample[sampleToken] == nil { sampleTokens.append(sampleToken) }
            boxesBySample[sampleToken] = newValue
        }
    }

    /// All boxes, sample by sample in `sampleTokens` order.
    public var all: [EvalBox] { sampleTokens.flatMap { boxesBySample[$0] ?? [] } }

    public var count: Int { boxesBySample.values.reduce(0) { $0 + $1.count } }
}

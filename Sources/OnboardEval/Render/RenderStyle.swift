/// Class names, colours and the score threshold shared by the demo renderers.
public struct RenderStyle: Sendable {
    /// PETR's (mmdet3d nuScenes) class order: a box's `label` indexes it.
    public static let petrClassNames = [
        "car", "truck", "construction_vehicle", "bus", "trailer", "barrier", "motorcycle", "bicycle", "pedestrian",
        "traffic_cone",
    ]

    /// One colour per class index (cycled past the end); ground truth is drawn in `groundTruthColor`.
    public static let palette = [
        "#1f77b4", "#ff7f0e", "#8c564b", "#9467bd", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#d62728", "#ff9896",
    ]

    public var classNames: [String]
    /// Predictions below this score are not drawn.
    public var scoreThreshold: Double
    public var groundTruthColor: String

    public init(classNames: [String] = RenderStyle.petrClassNames, scoreThreshold: Double = 0.3,
                groundTruthColor: String = "#2ca02c") {
        self.classNames = classNames
        self.scoreThreshold = scoreThreshold
        self.groundTruthColor = groundTruthColor
    }

    public func className(_ label: Int) -> String {
        classNames.indices.contains(label) ? classNames[label] : "class \(label)"
    }

    public func color(_ box: RenderBox) -> String {
        box.isGroundTruth ? groundTruthColor : Self.palette[((box.label % Self.palette.count) + Self.palette.count) % Self.palette.count]
    }

    /// Ground truth, then predictions at or above the threshold, highest score last (drawn on top).
    public func visible(_ boxes: [RenderBox]) -> [RenderBox] {
        boxes.filter(\.isGroundTruth)
            + boxes.filter { !$0.isGroundTruth && $0.score >= scoreThreshold }.sorted { $0.score < $1.score }
    }
}

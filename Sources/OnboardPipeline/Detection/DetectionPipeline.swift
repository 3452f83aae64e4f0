import Foundation
import OnboardCore
import OnboardEval
import OnboardGraph
import OnboardModels
import OnboardSensors

/// Camera sample -> PETR -> nuScenes submission boxes, with per-stage wall time: JPEG decode,
/// preprocessing (resize, crop, normalise), backbone, position embedding (geometry + encoder),
/// decoder (with branches) and post-processing (NMS-free decoding + export).
public final class DetectionPipeline {
    public let model: PETRModel
    public let preprocessing: PETRPreprocessing
    public let classNames: [String]
    public let threads: Int
    /// Graph tensors recorded for, or replayed from, another runtime (nil: neither).
    public let exchange: GraphExchange?
    private let profiler = Profiler()
    public private(set) var stages = DetectionStages()
    /// Per channel, pixel value -> input code, when the runner takes the image as codes (INT8):
    /// the same codes as normalising to float and quantizing, without the float image.
    private let imageCodeTables: [[UInt8]]?

    /// One sample's detections.
    public struct Frame {
        public let boxes: [LidarBox]
        /// The boxes in the global frame, as a nuScenes submission holds them.
        public let submission: [SubmissionBox]
        public let outputs: PETROutputs
    }

    /// A PETR bundle with a backbone and preprocess settings, run in `precision` (INT8 needs a
    /// quantized bundle).
    public convenience init(bundle: ModelBundle, precision: Precision = .fp32, threads: Int, exchange: GraphExchange? = nil) throws {
        try self.init(runners: try RunnerFactory(bundle: bundle, precision: precision, threads: threads), exchange: exchange)
    }

    public init(runners: RunnerFactory, exchange: GraphExchange? = nil) throws {
        let bundle = runners.bundle, threads = runners.threads
        guard let config = bundle.model as? PETRConfig else {
            throw OnboardError.format(path: bundle.configPath, item: "architecture", reason: "not a PETR bundle (architecture must be petr)")
        }
        if runners.bundleIsQuantized && runners.precision == .fp32 {
            throw OnboardError.invalidArgument("\(bundle.directory): a quantized bundle detects in int8 precision")
        }
        let profiler = self.profiler
        model = try PETRModel(bundle: bundle, input: .images, threads: threads) { graph in
            let runner = try runners(graph)
            runner.profiler = profiler
            return runner
        }
        let preprocessing = try Self.preprocessing(config, bundle: bundle)
        self.preprocessing = preprocessing
        self.exchange = exchange
        // A recording holds the float image another runtime takes, so the INT8 runner quantizes it
        // itself (the same codes as the tables give).
        imageCodeTables = exchange?.records == true ? nil : model.imageQuantization.map { q in (0..<3).map { q.codes(of: preprocessing.normalizedLevels(channel: $0)) } }
        classNames = config.classNames ?? DetectionConfig.cvpr2019.classNames
        self.threads = threads
    }

    /// Forgets the stage times of the frames run so far (a warm-up).
    public func resetStages() { stages = DetectionStages() }

    public static func preprocessing(_ config: PETRConfig, bundle: ModelBundle) throws -> PETRPreprocessing {
        guard let p = config.preprocess else {
            throw OnboardError.format(path: bundle.configPath, item: "preprocess", reason: "missing (mean, std, to_rgb are needed to read images)")
        }
        let preprocessing = PETRPreprocessing(width: config.imageSize[1], height: config.imageSize[0], mean: p.mean, std: p.std,
                                              channelOrder: p.toRGB ? .rgb : .bgr)
        try preprocessing.validate()
        return preprocessing
    }

    /// A reader of `tables` that decodes and checks samples for this model's input.
    public func reader(tables: NuScenesTables, skipBad: Bool = false) throws -> NuScenesSampleReader {
        try NuScenesSampleReader(tables: tables, preprocessing: preprocessing, skipBad: skipBad)
    }

    /// The network inputs of one sample: images [N,3,H,W] and lidar2img [N,4,4].
    public func inputs(_ sample: CameraSample, timing: inout [String: Double]) throws -> [String: Tensor] {
        let n = sample.cameras.count
        var decoded = [PETRPreprocessing.Decoded?](repeating: nil, count: n)
        let errors = ParallelErrors(count: n)
        var start = Self.now()
        decoded.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            Parallel.forRanges(count: n, threads: threads) { range in
                for i in range {
                    let camera = sample.cameras[i], path = camera.path
                    do {
                        slots[i] = try preprocessing.decode(jpeg: try JPEGCodec.readFile(path), path: path,
                                                            expectedSize: (camera.imageWidth, camera.imageHeight))
                    } catch {
                        errors.set(i, error)
                    }
                }
            }
        }
        if let (index, error) = errors.first {
            let camera = sample.cameras[index]
            // An error that already names the image keeps its reason; the sample and camera are added.
            let reason: String
            switch error {
            case let OnboardError.format(path, nil, text) where path == camera.path: reason = text
            case let OnboardError.io(path, text) where path == camera.path: reason = text
            default: reason = "\(error)"
            }
            throw OnboardError.format(path: camera.path, item: "sample \(sample.token) \(camera.channel)", reason: reason)
        }
        timing["decode"] = Self.now() - start
        start = Self.now()
        let (h, w) = (preprocessing.height, preprocessing.width)
        let ready = decoded.compactMap { $0 }
        let images: Tensor
        if let tables = imageCodeTables {
            // An INT8 runner takes the image as codes: each pixel straight to its code.
            images = Tensor(zeros: [n, 3, h, w], dtype: .u8)
            nonisolated(unsafe) let base = images.rawPointer.assumingMemoryBound(to: UInt8.self)
            Parallel.forRanges(count: ready.count, threads: threads) { range in
                for i in range { preprocessing.finish(ready[i], codes: base + i * 3 * h * w, tables: tables) }
            }
        } else {
            images = Tensor(zeros: [n, 3, h, w])
            nonisolated(unsafe) let base = images.floatPointer
            Parallel.forRanges(count: ready.count, threads: threads) { range in
                for i in range { preprocessing.finish(ready[i], into: base + i * 3 * h * w) }
            }
        }
        timing["preprocess"] = Self.now() - start
        return ["images": images, "lidar2img": lidar2img(sample)]
    }

    /// The sample's lidar-to-network-image projections [N, 4, 4].
    func lidar2img(_ sample: CameraSample) -> Tensor {
        let lidar2img = Tensor(zeros: [sample.cameras.count, 4, 4])
        for (i, camera) in sample.cameras.enumerated() {
            for (j, v) in camera.lidarToNetworkImage.values.enumerated() { lidar2img.floatPointer[i * 16 + j] = Float(v) }
        }
        return lidar2img
    }

    /// Detections of one sample; `source` names it in errors.
    public func detect(_ sample: CameraSample, source: String) throws -> Frame {
        var timing: [String: Double] = [:]
        let outputs: PETROutputs
        var decoding = 0.0
        if case .replay(let directory) = exchange {
            outputs = try replayed(sample, from: directory)
        } else {
            let inputs = try self.inputs(sample, timing: &timing)
            profiler.reset()
            outputs = try model.run(inputs, source: source)
            let t = model.lastTimings
            for (stage, seconds) in DetectionStages.graphStages(profile: profiler, wallSeconds: t.graph) {
                timing[stage, default: 0] += seconds
            }
            timing["position_embedding", default: 0] += t.geometry
            decoding = t.decoding
            if case .record(let directory) = exchange { try record(sample, inputs: inputs, outputs: outputs, in: directory) }
        }
        let start = Self.now()
        let boxes = Self.lidarBoxes(outputs.detections)
        let submission = DetectionExport.submission(sampleToken: sample.token, boxes: boxes, classNames: classNames,
                                                    lidarToEgo: sample.lidarToEgo, egoToGlobal: sample.egoToGlobal)
        timing["postprocess"] = decoding + Self.now() - start
        stages.add(timing)
        return Frame(boxes: boxes, submission: submission, outputs: outputs)
    }

    public static func lidarBoxes(_ d: PETRDetections) -> [LidarBox] {
        (0..<d.count).map { k in
            let row = (0..<9).map { d.boxes.floatPointer[k * 9 + $0] }
            let label = Int(d.labels.rawPointer.assumingMemoryBound(to: Int32.self)[k])
            return LidarBox(row: row, label: label, score: d.scores.floatPointer[k])
        }
    }

    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

import Foundation
import OnboardCore
import OnboardGraph
import OnboardModels
import OnboardTestSupport
import XCTest

/// The full-size official backbones (mmdet ResNet-50, PETR's VoVNetCP V-99-eSE + CPFPN) build
/// from a checkpoint holding exactly the official names and shapes (written out here from the
/// official module definitions, independently of the builders), with random values: every
/// tensor is used, none is missing, shapes follow PETR's 800x320 input, and a small input runs.
final class FullSizeBackboneTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("full-backbone") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// Random checkpoint tensors: conv weights are N(0, 1) views into one shared pool (cheap
    /// for tens of millions of parameters); each batch norm's running variance is the conv's
    /// fan-in, so its folded output stays O(1) through deep stacks.
    final class Checkpoint {
        var tensors: [(name: String, tensor: Tensor)] = []
        var random = TestRandom(seed: 99)
        let pool: AlignedBuffer
        let poolFloats = 2_400_000
        var cursor = 0

        init() {
            pool = AlignedBuffer(byteCount: poolFloats * 4)
            let values = pool.pointer.assumingMemoryBound(to: Float.self)
            var block = random.floats(65_536)
            for start in stride(from: 0, to: poolFloats, by: block.count) {
                block.withUnsafeBufferPointer { (values + start).update(from: $0.baseAddress!, count: min(block.count, poolFloats - start)) }
                block.swapAt(start % block.count, (start / 7) % block.count)
            }
        }

        func convWeight(_ name: String, _ shape: [Int]) {
            let count = shape.reduce(1, *)
            precondition(count <= poolFloats, "\(name) larger than the pool")
            cursor = (cursor + 7919 * 4) % (poolFloats - count + 1)
            tensors.append((name, Tensor(shape: shape, dtype: .f32, buffer: pool, byteOffset: cursor * 4)))
        }

        func vector(_ name: String, _ count: Int, _ value: (inout TestRandom) -> Float) {
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count { values[i] = value(&random) }
            tensors.append((name, try! Tensor(shape: [count], values: values)))
        }

        func batchNorm(_ name: String, _ channels: Int, fanIn: Int) {
            vector("\(name).weight", channels) { 0.5 + Float($0.int(in: 0...1000)) / 1000 }
            vector("\(name).bias", channels) { $0.generator.nextGaussian() * 0.2 }
            vector("\(name).running_mean", channels) { $0.generator.nextGaussian() * 0.3 }
            vector("\(name).running_var", channels) { _ in Float(fanIn) }
            tensors.append(("\(name).num_batches_tracked", try! Tensor(shape: [], dtype: .i64, integers: [1000])))
        }

        func convBN(_ conv: String, _ norm: String, out: Int, in inChannels: Int, kernel: Int) {
            convWeight("\(conv).weight", [out, inChannels, kernel, kernel])
            batchNorm(norm, out, fanIn: inChannels * kernel * kernel)
        }

        /// Parameters as torch counts them (`parameters()`: no running statistics).
        var parameterCount: Int {
            tensors.filter { !$0.name.hasSuffix("running_mean") && !$0.name.hasSuffix("running_var") && !$0.name.hasSuffix("num_batches_tracked") }
                .reduce(0) { $0 + $1.tensor.count }
        }

        func write(to path: String) throws { try SafeTensorsWriter.write(tensors, to: path) }
    }

    /// mmdet ResNet-50 (`Bottleneck`, blocks 3-4-6-3, base 64) under `img_backbone.`; with
    /// `dcn`, stages 3 and 4 have DCNv2 3x3 convs (`conv2.conv_offset`: 27 channels, bias).
    func resNet50(dcn: Bool = false) -> Checkpoint {
        let c = Checkpoint(), p = "img_backbone"
        c.convBN("\(p).conv1", "\(p).bn1", out: 64, in: 3, kernel: 7)
        var inplanes = 64
        for (stage, blocks) in [3, 4, 6, 3].enumerated() {
            let planes = 64 << stage
            for j in 0..<blocks {
                let b = "\(p).layer\(stage + 1).\(j)"
                c.convBN("\(b).conv1", "\(b).bn1", out: planes, in: inplanes, kernel: 1)
                c.convBN("\(b).conv2", "\(b).bn2", out: planes, in: planes, kernel: 3)
                if dcn && stage >= 2 {
                    c.convWeight("\(b).conv2.conv_offset.weight", [27, planes, 3, 3])
                    c.vector("\(b).conv2.conv_offset.bias", 27) { $0.generator.nextGaussian() * 0.1 }
                }
                c.convBN("\(b).conv3", "\(b).bn3", out: planes * 4, in: planes, kernel: 1)
                if j == 0 { c.convBN("\(b).downsample.0", "\(b).downsample.1", out: planes * 4, in: inplanes, kernel: 1) }
                inplanes = planes * 4
            }
        }
        return c
    }

    /// VoVNetCP V-99-eSE under `img_backbone.` (names with '/') and CPFPN [768, 1024] -> 256 under `img_neck.`.
    func voVNet99WithNeck() -> (Checkpoint, backboneParameters: Int) {
        let c = Checkpoint(), p = "img_backbone"
        c.convBN("\(p).stem.stem_1/conv", "\(p).stem.stem_1/norm", out: 64, in: 3, kernel: 3)
        c.convBN("\(p).stem.stem_2/conv", "\(p).stem.stem_2/norm", out: 64, in: 64, kernel: 3)
        c.convBN("\(p).stem.stem_3/conv", "\(p).stem.stem_3/norm", out: 128, in: 64, kernel: 3)
        let inputs = [128, 256, 512, 768], conv = [128, 160, 192, 224], outs = [256, 512, 768, 1024], blocks = [1, 3, 9, 3]
        for i in 0..<4 {
            let stage = i + 2
            for b in 1...blocks[i] {
                let module = "OSA\(stage)_\(b)", prefix = "\(p).stage\(stage).\(module)"
                let inChannels = b == 1 ? inputs[i] : outs[i]
                for l in 0..<5 {
                    c.convBN("\(prefix).layers.\(l).\(module)_\(l)/conv", "\(prefix).layers.\(l).\(module)_\(l)/norm",
                             out: conv[i], in: l == 0 ? inChannels : conv[i], kernel: 3)
                }
                c.convBN("\(prefix).concat.\(module)_concat/conv", "\(prefix).concat.\(module)_concat/norm",
                         out: outs[i], in: inChannels + 5 * conv[i], kernel: 1)
                c.convWeight("\(prefix).ese.fc.weight", [outs[i], outs[i], 1, 1])
                c.vector("\(prefix).ese.fc.bias", outs[i]) { $0.generator.nextGaussian() }
            }
        }
        let backboneParameters = c.parameterCount
        cpfpn(c, [768, 1024], 256)
        return (c, backboneParameters)
    }

    /// CPFPN under `img_neck.`: lateral 1x1 convs with bias, one 3x3 fpn conv.
    func cpfpn(_ c: Checkpoint, _ inChannels: [Int], _ out: Int) {
        for (index, channels) in inChannels.enumerated() {
            c.convWeight("img_neck.lateral_convs.\(index).conv.weight", [out, channels, 1, 1])
            c.vector("img_neck.lateral_convs.\(index).conv.bias", out) { $0.generator.nextGaussian() * 0.1 }
        }
        c.convWeight("img_neck.fpn_convs.0.conv.weight", [out, out, 3, 3])
        c.vector("img_neck.fpn_convs.0.conv.bias", out) { $0.generator.nextGaussian() * 0.1 }
    }

    func build(_ backbone: BackboneConfig, _ neck: NeckConfig?, weights path: String, imageSize: [Int]) throws -> (Graph, [ValueID], ValueID) {
        let weights = WeightStore(file: try SafeTensorsFile(path: path))
        let module = ModuleBuilder(graph: GraphBuilder(), weights: weights)
        let images = try module.graph.input("images", shape: [1, 3] + imageSize)
        let (levels, map) = try BackboneBuilder.build(backbone: backbone, neck: neck, images: images, module: module)
        levels.forEach(module.graph.markOutput)
        module.graph.markOutput(map)
        try weights.finish()  // every checkpoint tensor used
        return (try module.graph.build(), levels, map)
    }

    /// Parameters of the built graph (folded convs: weight + bias).
    func constantCount(_ graph: Graph) -> Int { graph.constants.values.reduce(0) { $0 + $1.count } }

    func runSmall(_ graph: Graph, imageSize: [Int]) throws -> [String: Tensor] {
        var random = TestRandom(seed: 1)
        let outputs = try FP32Executor(graph: graph, threads: 2).run(["images": random.gaussian([1, 3] + imageSize)])
        for (name, tensor) in outputs { XCTAssertTrue(tensor.floats().allSatisfy(\.isFinite), "\(name) not finite") }
        return outputs
    }

    func test_resNet50BuildsFromOfficialNames() throws {
        let plain = resNet50()
        XCTAssertEqual(plain.parameterCount, 23_508_032)  // torch: sum of mmdet ResNet(depth=50).parameters()
        let plainPath = "\(directory)/r50.safetensors"
        try plain.write(to: plainPath)
        let backbone = BackboneConfig(ResNetConfig(depth: 50, outIndices: [3]))
        let (graph, levels, map) = try build(backbone, nil, weights: plainPath, imageSize: [256, 704])
        XCTAssertEqual(levels.map { graph.info($0).shape }, [[1, 2048, 8, 22]])
        XCTAssertEqual(levels, [map])
        print("ResNet-50 trunk: \(plain.parameterCount) checkpoint parameters, \(constantCount(graph)) graph constants after BN folding")
        let (small, _, _) = try build(backbone, nil, weights: plainPath, imageSize: [64, 96])
        XCTAssertEqual(try runSmall(small, imageSize: [64, 96]).values.first?.shape, [1, 2048, 2, 3])
    }

    /// PETR's r50dcn-p4 backbone and neck: caffe style, DCNv2 in stages 3 and 4, CPFPN [1024, 2048] -> 256.
    func test_petrResNet50DCNWithCPFPNBuildsFromOfficialNames() throws {
        let checkpoint = resNet50(dcn: true)
        let trunkParameters = checkpoint.parameterCount
        XCTAssertEqual(trunkParameters, 24_254_771)  // torch: the same ResNet with ModulatedDeformConv2dPack conv2s
        cpfpn(checkpoint, [1024, 2048], 256)
        let path = "\(directory)/r50dcn.safetensors"
        try checkpoint.write(to: path)
        let json = #"{"type": "resnet", "depth": 50, "out_indices": [2, 3], "style": "caffe", "stage_with_dcn": [false, false, true, true]}"#
        let backbone = try JSONDecoder().decode(BackboneConfig.self, from: Data(json.utf8))
        let neck = NeckConfig(CPFPNConfig(inChannels: [1024, 2048], outChannels: 256))
        try BackboneBuilder.validate(backbone: backbone, neck: neck, path: "config.json")
        let (graph, levels, map) = try build(backbone, neck, weights: path, imageSize: [512, 1408])
        XCTAssertEqual(levels.map { graph.info($0).shape }, [[1, 1024, 32, 88], [1, 2048, 16, 44]])
        XCTAssertEqual(graph.info(map).shape, [1, 256, 32, 88])
        XCTAssertEqual(BackboneBuilder.featureSize(backbone: backbone, neck: neck, imageSize: [512, 1408]), [32, 88])
        XCTAssertEqual(BackboneBuilder.featureStrides(backbone: backbone), [16, 32])
        XCTAssertEqual(graph.nodes.filter { if case .deformConv2d = $0.op { return true }; return false }.count, 9)
        print("ResNet-50-DCN trunk: \(trunkParameters) checkpoint parameters; with CPFPN \(checkpoint.parameterCount); "
              + "\(constantCount(graph)) graph constants after BN folding")
        // A small input runs through the whole trunk and neck.
        let (small, _, _) = try build(backbone, neck, weights: path, imageSize: [64, 96])
        XCTAssertEqual(try runSmall(small, imageSize: [64, 96]).count, 3)
    }

    func test_voVNet99eSEWithCPFPNBuildsFromOfficialNames() throws {
        let (checkpoint, backboneParameters) = voVNet99WithNeck()
        let path = "\(directory)/v99.safetensors"
        try checkpoint.write(to: path)
        let backbone = BackboneConfig(VoVNetConfig(spec: "V-99-eSE", outFeatures: ["stage4", "stage5"]))
        let neck = NeckConfig(CPFPNConfig(inChannels: [768, 1024], outChannels: 256, numOuts: 2))
        try BackboneBuilder.validate(backbone: backbone, neck: neck, path: "config.json")
        XCTAssertEqual(BackboneBuilder.featureChannels(backbone: backbone), [768, 1024])
        XCTAssertEqual(BackboneBuilder.featureStrides(backbone: backbone), [16, 32])
        XCTAssertEqual(BackboneBuilder.stride(backbone: backbone, neck: neck), 16)
        XCTAssertEqual(BackboneBuilder.outputChannels(backbone: backbone, neck: neck), 256)
        // PETR vov-p4-800x320: stage4 50x20, stage5 25x10, head map 256 x 20 x 50.
        let (graph, levels, map) = try build(backbone, neck, weights: path, imageSize: [320, 800])
        XCTAssertEqual(levels.map { graph.info($0).shape }, [[1, 768, 20, 50], [1, 1024, 10, 25]])
        XCTAssertEqual(graph.info(map).shape, [1, 256, 20, 50])
        XCTAssertEqual(BackboneBuilder.featureSize(backbone: backbone, neck: neck, imageSize: [320, 800]), [20, 50])
        XCTAssertEqual(BackboneBuilder.featureSize(backbone: backbone, neck: neck, imageSize: [640, 1600]), [40, 100])
        print("V-99-eSE: \(backboneParameters) checkpoint parameters (backbone), \(checkpoint.parameterCount) with CPFPN; "
              + "\(constantCount(graph)) graph constants after BN folding")
        XCTAssertEqual(backboneParameters, 69_523_520)  // torch: sum of VoVNetCP('V-99-eSE').parameters()
        let (small, _, _) = try build(backbone, neck, weights: path, imageSize: [64, 96])
        let outputs = try runSmall(small, imageSize: [64, 96])
        XCTAssertEqual(outputs.count, 3)
    }
}

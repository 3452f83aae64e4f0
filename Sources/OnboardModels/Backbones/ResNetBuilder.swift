import OnboardCore
import OnboardGraph

/// mmdet's `ResNet` (v2 module names) with frozen batch norms folded into the convolutions:
/// stem `conv1`/`bn1` (7x7 stride 2) + ReLU + max pool 3x3 stride 2; stage i = `layer{i+1}` of
/// `BasicBlock`s or `Bottleneck`s (`conv{k}`/`bn{k}`, `downsample.{0,1}` on the first block
/// when the stride or width changes). "pytorch" style strides the 3x3 conv, "caffe" the first 1x1.
/// Stages listed in `stage_with_dcn` use DCNv2 for the bottleneck 3x3 conv (PETR r50dcn).
enum ResNetBuilder {
    static func build(_ c: ResNetConfig, _ images: ValueID, module m: ModuleBuilder, prefix: String) throws -> [ValueID] {
        let g = m.graph
        let shape = g.shape(images)
        guard shape.count == 4, shape[1] == c.inChannels else {
            throw OnboardError.shape(item: "\(prefix) input", reason: "expected [N, \(c.inChannels), H, W], got \(shape)")
        }
        let eps = c.frozenBNEps
        var x = try m.convBatchNorm(conv: "\(prefix).conv1", norm: "\(prefix).bn1", images, out: c.stemChannels, kernel: 7,
                                    params: Conv2dParams(stride: 2, padding: 3), epsilon: eps)
        x = try m.relu(x, name: "\(prefix).relu")
        x = try g.node(.maxPool2d(Pool2dParams(kernel: 3, stride: 2, padding: 1)), [x], name: "\(prefix).maxpool")
        let (block, layers) = c.stages
        var inplanes = c.stemChannels
        var outputs: [ValueID] = []
        for (stage, count) in layers.enumerated() {
            let planes = c.baseChannels << stage
            for index in 0..<count {
                let stride = index == 0 ? c.stageStrides[stage] : 1
                let name = "\(prefix).layer\(stage + 1).\(index)"
                let downsample = index == 0 && (stride != 1 || inplanes != planes * c.expansion)
                x = try residualBlock(block, c, m, x, name: name, planes: planes, stride: stride,
                                      dilation: c.stageDilations[stage], downsample: downsample, deformable: c.usesDCN(stage))
                inplanes = planes * c.expansion
            }
            if c.outIndices.contains(stage) { outputs.append(x) }
        }
        return outputs
    }

    private static func residualBlock(
        _ block: ResNetConfig.Block, _ c: ResNetConfig, _ m: ModuleBuilder, _ x: ValueID, name: String,
        planes: Int, stride: Int, dilation: Int, downsample: Bool, deformable: Bool
    ) throws -> ValueID {
        let eps = c.frozenBNEps
        var out: ValueID
        switch block {
        case .basic:
            out = try m.convBatchNorm(conv: "\(name).conv1", norm: "\(name).bn1", x, out: planes, kernel: 3,
                                      params: Conv2dParams(stride: stride, padding: dilation, dilation: dilation), epsilon: eps)
            out = try m.relu(out, name: "\(name).relu1")
            out = try m.convBatchNorm(conv: "\(name).conv2", norm: "\(name).bn2", out, out: planes, kernel: 3,
                                      params: Conv2dParams(stride: 1, padding: 1), epsilon: eps)
        case .bottleneck:
            let (stride1, stride2) = c.style == "caffe" ? (stride, 1) : (1, stride)
            out = try m.convBatchNorm(conv: "\(name).conv1", norm: "\(name).bn1", x, out: planes, kernel: 1,
                                      params: Conv2dParams(stride: stride1), epsilon: eps)
            out = try m.relu(out, name: "\(name).relu1")
            let params2 = Conv2dParams(stride: stride2, padding: dilation, dilation: dilation)
            out = deformable
                ? try deformableConvBatchNorm(c, m, out, name: name, planes: planes, params: params2)
                : try m.convBatchNorm(conv: "\(name).conv2", norm: "\(name).bn2", out, out: planes, kernel: 3, params: params2, epsilon: eps)
            out = try m.relu(out, name: "\(name).relu2")
            out = try m.convBatchNorm(conv: "\(name).conv3", norm: "\(name).bn3", out, out: planes * 4, kernel: 1,
                                      params: Conv2dParams(), epsilon: eps)
        }
        let identity = downsample
            ? try m.convBatchNorm(conv: "\(name).downsample.0", norm: "\(name).downsample.1", x, out: planes * c.expansion, kernel: 1,
                                  params: Conv2dParams(stride: stride), epsilon: eps, name: "\(name).downsample")
            : x
        let sum = try m.graph.node(.add, [out, identity], name: "\(name).add")
        return try m.relu(sum, name: "\(name).relu")
    }

    /// mmcv `ModulatedDeformConv2dPack` (DCNv2, no bias) + frozen BN: `conv_offset` (3x3 with
    /// bias, same stride/padding/dilation) gives 3·dg·9 channels, the first 2·dg·9 are the
    /// offsets (cat of its first two thirds), sigmoid of the last third is the mask.
    private static func deformableConvBatchNorm(
        _ c: ResNetConfig, _ m: ModuleBuilder, _ x: ValueID, name: String, planes: Int, params: Conv2dParams
    ) throws -> ValueID {
        let g = m.graph, dg = c.deformGroups, taps = 9
        let offsetConv = try m.conv2d("\(name).conv2.conv_offset", x, out: 3 * dg * taps, kernel: 3, params: params)
        let offset = try g.node(.slice(axis: 1, start: 0, end: 2 * dg * taps, step: 1), [offsetConv], name: "\(name).conv2.offset")
        let logits = try g.node(.slice(axis: 1, start: 2 * dg * taps, end: 3 * dg * taps, step: 1), [offsetConv], name: "\(name).conv2.mask_logits")
        let mask = try g.node(.sigmoid, [logits], name: "\(name).conv2.mask")
        let (weight, bias) = try m.foldedBatchNorm(conv: "\(name).conv2", norm: "\(name).bn2", weightShape: [planes, g.shape(x)[1], 3, 3],
                                                   epsilon: c.frozenBNEps)
        return try g.node(.deformConv2d(params, deformGroups: dg), [x, offset, mask, weight, bias], name: "\(name).conv2")
    }

    /// Spatial extent of stage `stage`'s output for an input extent `size`.
    static func extent(_ size: Int, _ c: ResNetConfig, stage: Int) -> Int {
        var s = Conv2dParams.outputExtent(size, kernel: 7, stride: 2, padding: 3)
        s = Pool2dParams.outputExtent(s, kernel: 3, stride: 2, padding: 1, ceilMode: false)
        for i in 0...stage { s = Conv2dParams.outputExtent(s, kernel: 1, stride: c.stageStrides[i], padding: 0) }
        return s
    }
}

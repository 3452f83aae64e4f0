import OnboardCore
import OnboardGraph

/// PETR's `VoVNetCP` (module names with '/', batch norms folded into the convolutions):
/// stem `stem_1..3` (3x3 convs, strides 2, 1, 2); stages 2..5 of OSA modules, stages 3..5
/// after a 3x3 stride-2 max pool with ceil mode. An OSA module runs `layers_per_block` 3x3
/// conv+BN+ReLU layers in sequence, concatenates its input and every layer output, applies
/// the 1x1 `concat` conv+BN+ReLU and eSE (global average pool, 1x1 `fc` with bias, hard
/// sigmoid, multiply); modules after the first of a stage add their input (identity).
/// Depthwise specs ("-dw-") replace each 3x3 conv by `dw_conv3x3` + `pw_conv1x1` + `pw_norm`.
enum VoVNetBuilder {
    static func build(_ c: VoVNetConfig, _ images: ValueID, module m: ModuleBuilder, prefix: String) throws -> [ValueID] {
        let g = m.graph
        let shape = g.shape(images)
        guard shape.count == 4, shape[1] == c.inChannels else {
            throw OnboardError.shape(item: "\(prefix) input", reason: "expected [N, \(c.inChannels), H, W], got \(shape)")
        }
        let s = c.stageSpec
        let eps = c.bnEps
        var x = try conv3x3(m, images, module: "\(prefix).stem.stem_1", out: s.stem[0], stride: 2, depthwise: false, eps: eps)
        x = try conv3x3(m, x, module: "\(prefix).stem.stem_2", out: s.stem[1], stride: 1, depthwise: s.depthwise, eps: eps)
        x = try conv3x3(m, x, module: "\(prefix).stem.stem_3", out: s.stem[2], stride: 2, depthwise: s.depthwise, eps: eps)
        var outputs: [ValueID] = []
        if c.outFeatures.contains("stem") { outputs.append(x) }
        for stage in 2...5 {
            let name = "\(prefix).stage\(stage)"
            if stage != 2 {
                x = try g.node(.maxPool2d(Pool2dParams(kernel: 3, stride: 2, padding: 0, ceilMode: true)), [x], name: "\(name).Pooling")
            }
            for block in 1...s.blocksPerStage[stage - 2] {
                let module = "OSA\(stage)_\(block)"
                x = try osaModule(m, x, prefix: "\(name).\(module)", module: module, stageChannels: s.stageConv[stage - 2],
                                  concatChannels: s.stageOut[stage - 2], layers: s.layersPerBlock, identity: block > 1,
                                  depthwise: s.depthwise, eps: eps)
            }
            if c.outFeatures.contains("stage\(stage)") { outputs.append(x) }
        }
        return outputs
    }

    /// `conv3x3` (conv/norm/relu) or `dw_conv3x3` (dw_conv3x3/pw_conv1x1/pw_norm/pw_relu) named `module`.
    private static func conv3x3(_ m: ModuleBuilder, _ x: ValueID, module: String, out: Int, stride: Int, depthwise: Bool, eps: Float) throws -> ValueID {
        if depthwise {
            let channels = m.graph.shape(x)[1]
            let dw = try m.conv2d("\(module)/dw_conv3x3", x, out: out, kernel: 3,
                                  params: Conv2dParams(stride: stride, padding: 1, groups: channels), bias: false)
            let pw = try m.convBatchNorm(conv: "\(module)/pw_conv1x1", norm: "\(module)/pw_norm", dw, out: out, kernel: 1,
                                         params: Conv2dParams(), epsilon: eps)
            return try m.relu(pw, name: "\(module)/pw_relu")
        }
        let conv = try m.convBatchNorm(conv: "\(module)/conv", norm: "\(module)/norm", x, out: out, kernel: 3,
                                       params: Conv2dParams(stride: stride, padding: 1), epsilon: eps)
        return try m.relu(conv, name: "\(module)/relu")
    }

    private static func osaModule(
        _ m: ModuleBuilder, _ input: ValueID, prefix: String, module: String, stageChannels: Int, concatChannels: Int,
        layers: Int, identity: Bool, depthwise: Bool, eps: Float
    ) throws -> ValueID {
        let g = m.graph
        var x = input
        var outputs = [input]
        if depthwise && g.shape(input)[1] != stageChannels {
            let reduced = try m.convBatchNorm(conv: "\(prefix).conv_reduction.\(module)_reduction_0/conv",
                                              norm: "\(prefix).conv_reduction.\(module)_reduction_0/norm", x,
                                              out: stageChannels, kernel: 1, params: Conv2dParams(), epsilon: eps)
            x = try m.relu(reduced, name: "\(prefix).conv_reduction.\(module)_reduction_0/relu")
        }
        for i in 0..<layers {
            x = try conv3x3(m, x, module: "\(prefix).layers.\(i).\(module)_\(i)", out: stageChannels, stride: 1, depthwise: depthwise, eps: eps)
            outputs.append(x)
        }
        let joined = try g.node(.concat(axis: 1), outputs, name: "\(prefix).cat")
        let concat = try m.convBatchNorm(conv: "\(prefix).concat.\(module)_concat/conv", norm: "\(prefix).concat.\(module)_concat/norm",
                                         joined, out: concatChannels, kernel: 1, params: Conv2dParams(), epsilon: eps)
        var xt = try m.relu(concat, name: "\(prefix).concat.\(module)_concat/relu")
        xt = try effectiveSE(m, xt, prefix: "\(prefix).ese")
        if identity { xt = try g.node(.add, [xt, input], name: "\(prefix).identity") }
        return xt
    }

    /// eSE: x * hsigmoid(fc(avgpool(x))).
    private static func effectiveSE(_ m: ModuleBuilder, _ x: ValueID, prefix: String) throws -> ValueID {
        let g = m.graph
        let shape = g.shape(x)
        let (n, c) = (shape[0], shape[1])
        let flat = try g.node(.reshape([n, c, shape[2] * shape[3]]), [x], name: "\(prefix).flatten")
        let mean = try g.node(.reduceMean(axis: 2, keepDims: true), [flat], name: "\(prefix).avg_pool")
        let pooled = try g.node(.reshape([n, c, 1, 1]), [mean], name: "\(prefix).pooled")
        let fc = try m.conv2d("\(prefix).fc", pooled, out: c, kernel: 1, params: Conv2dParams())
        let gate = try g.node(.hardSigmoid, [fc], name: "\(prefix).hsigmoid")
        return try g.node(.mul, [x, gate], name: "\(prefix).scale")
    }

    /// Spatial extent of `feature` for an input extent `size`.
    static func extent(_ size: Int, feature: String) -> Int {
        var s = Conv2dParams.outputExtent(size, kernel: 3, stride: 2, padding: 1)
        s = Conv2dParams.outputExtent(s, kernel: 3, stride: 2, padding: 1)
        let index = VoVNetConfig.featureNames.firstIndex(of: feature) ?? 0
        if index >= 2 {
            for _ in 1..<index { s = Pool2dParams.outputExtent(s, kernel: 3, stride: 2, padding: 0, ceilMode: true) }
        }
        return s
    }
}

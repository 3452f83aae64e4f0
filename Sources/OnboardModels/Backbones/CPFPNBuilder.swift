import OnboardCore
import OnboardGraph

/// PETR's `CPFPN`: `lateral_convs.{i}.conv` (1x1 with bias) on every level; top-down, each
/// lateral adds the nearest upsampling (to its own size) of the one above; `fpn_convs.0.conv`
/// (3x3, padding 1, bias) on level 0 only. Returns level 0 and the other laterals; the
/// parameter-free extra levels (`num_outs` > levels: max pools) are not built (nothing uses them).
enum CPFPNBuilder {
    static func build(_ c: CPFPNConfig, _ levels: [ValueID], module m: ModuleBuilder, prefix: String) throws -> [ValueID] {
        let g = m.graph
        let channels = levels.map { g.shape($0)[1] }
        guard channels == c.inChannels else {
            throw OnboardError.model(item: prefix, reason: "neck in_channels \(c.inChannels) differ from the backbone outputs \(channels)")
        }
        var laterals = try levels.enumerated().map { i, level in
            try m.conv2d("\(prefix).lateral_convs.\(i).conv", level, out: c.outChannels, kernel: 1, params: Conv2dParams())
        }
        for i in stride(from: laterals.count - 1, to: 0, by: -1) {
            let target = g.shape(laterals[i - 1])
            let upsampled = try g.node(.upsampleNearest(height: target[2], width: target[3]), [laterals[i]],
                                       name: "\(prefix).upsample.\(i)")
            laterals[i - 1] = try g.node(.add, [laterals[i - 1], upsampled], name: "\(prefix).top_down.\(i - 1)")
        }
        let first = try m.conv2d("\(prefix).fpn_convs.0.conv", laterals[0], out: c.outChannels, kernel: 3,
                                 params: Conv2dParams(stride: 1, padding: 1))
        return [first] + laterals.dropFirst()
    }
}

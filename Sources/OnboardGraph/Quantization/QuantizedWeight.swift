import CKernels
import OnboardCore
import OnboardQuant

/// A weight matrix as symmetric int8 codes with one scale per tensor, per output channel (row of a
/// [N, K] Linear weight, output channel of a conv weight), or per group of consecutive inputs
/// within each row (scales [N, K / group] in row order).
public struct QuantizedWeight: Sendable {
    /// Codes in [-127, 127] (8 bits) or [-63, 63] (7 bits), same shape as the float weight.
    public let codes: Tensor
    /// One scale, one per output channel, or one per group of each channel's inputs.
    public let scales: [Float]

    public var perChannel: Bool { scales.count > 1 }
    /// Inputs per scale along each row of a 2-D weight; the row width when not grouped.
    public var groupSize: Int { codes.count / max(scales.count, 1) }
    /// Whether every code is in [-8, 7], so a bundle stores the codes two per byte.
    public var fitsFourBits: Bool {
        onboard_q4_fits(codes.rawPointer.assumingMemoryBound(to: Int8.self), codes.count, 1, codes.count)
    }

    /// Whether `count` scales fit a weight of `shape`: one, one per output channel, or for a 2-D
    /// weight one per output channel and equal group of its inputs.
    public static func fits(scaleCount count: Int, weightShape shape: [Int]) -> Bool {
        let channels = shape.first ?? 1
        guard count != 1, count != channels else { return true }
        let groups = channels > 0 ? count / channels : 0
        return shape.count == 2 && groups > 1 && count == groups * channels && shape[1] % groups == 0
    }

    public init(codes: Tensor, scales: [Float]) {
        self.codes = codes
        self.scales = scales
    }

    /// Quantizes `weight` (dim 0 = output channels) symmetrically over its largest magnitude, or over
    /// the MSE-optimal clipping range (`clip: .mse`), into codes of `bits` bits; an all-zero channel gets scale 1.
    /// With `groupSize` (which must divide the row width of a 2-D weight) each channel's inputs get one
    /// scale per run of that many. Channels are quantized on `threads` threads, each on its own, so
    /// the result does not depend on the thread count.
    public init(quantizing weight: Tensor, perChannel: Bool, clip: QuantizationRecipe.WeightClip = .max, bits: Int = 8,
                groupSize: Int? = nil, threads: Int = Parallel.coreCount) {
        let rows = perChannel ? max(weight.shape.first ?? 1, 1) : 1
        let channels = groupSize.map { weight.count / max($0, 1) } ?? rows
        let width = weight.count / max(channels, 1)
        let codes = Tensor(zeros: weight.shape, dtype: .i8)
        let source = UnsafePointer(weight.floatPointer)
        let target = codes.rawPointer.assumingMemoryBound(to: Int8.self)
        var scales = [Float](repeating: 1, count: channels)
        // The clip search reads each value 51 times: chunks of a few thousand values are worth a thread.
        let grain = max(1, (clip == .mse ? 4096 : 65536) / max(width, 1))
        scales.withUnsafeMutableBufferPointer { scaleOut in
            Parallel.forRanges(count: channels, threads: threads, grain: grain) { range in
                for channel in range {
                    let row = UnsafeBufferPointer(start: source + channel * width, count: width)
                    let amax = clip == .mse ? SymmetricClipSearch.mseClip(row, bits: bits) : row.reduce(Float(0)) { max($0, abs($1)) }
                    let params = QuantParams.affine(min: -amax, max: amax, bits: bits, symmetric: true)
                    scaleOut[channel] = params.scale
                    for i in 0..<width { target[channel * width + i] = Int8(params.quantize(row[i])) }
                }
            }
        }
        self.codes = codes
        self.scales = scales
    }

    /// The codes an integer op of `graph` runs on for constant `id`: as stored (a quantized
    /// bundle's int8 weight), or the float weight quantized now per `recipe`. Nil for no constant.
    public init?(constant id: ValueID, in graph: Graph, recipe: QuantizationRecipe, threads: Int = Parallel.coreCount) {
        guard let tensor = graph.constants[id] else { return nil }
        if tensor.dtype == .i8, let scales = graph.weightScales[id], scales.count == 1 || scales.count == tensor.shape.first {
            self.init(codes: tensor, scales: scales)
        } else if let weight = graph.floatConstant(id) {
            // A float weight, or grouped codes (a low-bit part's) on an op that takes one scale per channel.
            self.init(quantizing: weight, perChannel: recipe.weights == .perChannel, clip: recipe.weightClip, bits: recipe.weightBits,
                      threads: threads)
        } else {
            return nil
        }
    }

    /// The float values the codes stand for.
    public func dequantized() -> Tensor {
        let out = Tensor(zeros: codes.shape)
        let width = codes.count / scales.count
        let source = codes.rawPointer.assumingMemoryBound(to: Int8.self)
        for i in 0..<codes.count { out.floatPointer[i] = scales[i / width] * Float(source[i]) }
        return out
    }
}

import Foundation
import OnboardCore
import OnboardGraph
import OnboardQuant
import OnboardSensors

/// Writes the generated part of the seed corpus (`tools/fuzz.sh seeds` copies the rest from the
/// fixtures and configs): small safetensors files, DeltaDQ deltas against `DeltaFuzzBase`,
/// quantization plans, JPEGs, and nuScenes tables behind their selector byte.
/// Usage: make-seeds <corpus directory>
let corpus = CommandLine.arguments[1]

func seed(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
    let directory = (corpus as NSString).appendingPathComponent(target)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name)))
}

func bytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path)!) }

let scratch = FuzzScratch.directory

// safetensors: every dtype, metadata, a scalar and an empty tensor.
let mixed = FuzzScratch.path("mixed.safetensors")
try SafeTensorsWriter.write([
    ("scalar", try Tensor(shape: [], values: [1.5])),
    ("empty", try Tensor(shape: [0, 3], values: [])),
    ("half", try Tensor(shape: [2, 3], values: [0, 1, -2, 0.5, 65504, -0.25])),
    ("brain", try Tensor(shape: [4], values: [1, -1, 3.5, 1e-3])),
], metadata: ["format": "pt", "note": "fuzz seed"], storeAs: ["half": .f16, "brain": .bf16], to: mixed)
try seed("safetensors", "mixed.safetensors", bytes(mixed))
let base = FuzzScratch.path("base.safetensors"), tuned = FuzzScratch.path("tuned.safetensors")
try SafeTensorsWriter.write(DeltaFuzzBase.tensors(), to: base)
try SafeTensorsWriter.write(DeltaFuzzBase.tensors(tuned: true), to: tuned)
try seed("safetensors", "f32.safetensors", bytes(base))

// delta: DeltaDQ files at a few ratios (different group sizes, bit widths and selections).
for ratio in [4.0, 8.0, 16.0] {
    let out = FuzzScratch.path("delta-\(Int(ratio)).safetensors")
    _ = try DeltaFile.compress(base: base, finetuned: tuned, ratio: ratio, out: out)
    try seed("delta", "ratio-\(Int(ratio)).safetensors", bytes(out))
}

// quant_plan: a per-tensor and a per-channel plan, as `onboard quantize` saves them.
for (name, recipePath) in [("per-tensor", "Configs/recipes/int8-per-tensor.json"),
                           ("qpetr", "Configs/recipes/qpetr-int8.json")] {
    let plan = QuantizationPlan(recipe: try QuantizationRecipe.load(path: recipePath), activations: [
        "input": ActivationQuant(scale: 0.02, zeroPoint: 128),
        "blocks.0.attn.softmax": ActivationQuant(scale: 1.0 / 255, zeroPoint: 0),
        "head.out": ActivationQuant(scale: 0.1, zeroPoint: 0, qmin: -127, qmax: 127),
    ], calibrationSamples: 8)
    let out = FuzzScratch.path("\(name).json")
    try plan.save(path: out)
    try seed("quant_plan", "\(name).json", bytes(out))
}

// jpeg: small gradients; the lengths differ, so the target decodes them at different scales.
for (width, height, quality) in [(16, 16, 90), (33, 17, 75), (8, 40, 50), (64, 48, 95)] {
    var image = RGBImage(width: width, height: height)
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 3
            image.pixels[i] = UInt8(x * 255 / width)
            image.pixels[i + 1] = UInt8(y * 255 / height)
            image.pixels[i + 2] = UInt8((x ^ y) & 0xff)
        }
    }
    try seed("jpeg", "\(width)x\(height)-q\(quality).jpg", try JPEGCodec.encode(image, quality: quality))
}

// nuscenes: the selector byte then the table (indices as in Targets/nuscenes.swift).
let fixture = "Tests/Fixtures/nuscenes-synth-tiny/v1.0-synth"
for (index, table) in ["category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose",
                       "log", "scene", "sample", "sample_data", "sample_annotation", "map"].enumerated() {
    try seed("nuscenes", "\(table).bin", [UInt8(index)] + bytes("\(fixture)/\(table).json"))
}
try? FileManager.default.removeItem(atPath: scratch)

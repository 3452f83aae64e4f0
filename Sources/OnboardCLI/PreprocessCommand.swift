import ArgumentParser
import Foundation
import OnboardKit

/// Decodes and preprocesses a camera set as PETR's test pipeline does; times it with --iterations.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Decode + PETR-preprocess JPEGs into an [N,3,H,W] tensor (optionally timed).")

    @Option(parsing: .upToNextOption, help: "JPEG files, one per camera.") var images: [String]
    @Option(help: "Network input size WxH.") var size: String = "800x320"
    @Option(help: "Write the tensor as 'images' to this .safetensors file.") var out: String?
    @Option(help: "Timed iterations (after one warm-up).") var iterations: Int = 0
    @Option(help: "Decode threads.") var threads: Int = 2
    @Flag(help: "Full-size decode then Pillow resize (exact PETR pixels) instead of libjpeg DCT scaling.") var exact = false
    @Flag(help: "Print one JSON object.") var json = false

    mutating func validate() throws {
        guard !images.isEmpty else { throw ValidationError("--images needs at least one file") }
        guard iterations >= 0 else { throw ValidationError("--iterations must be >= 0") }
        guard parsedSize != nil else { throw ValidationError("--size must be WxH, e.g. 800x320") }
        threads = try ThreadOption.clamped(threads)
    }

    var parsedSize: (Int, Int)? {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        guard let (width, height) = parsedSize else { throw ValidationError("--size must be WxH") }
        if let out { try OutputPath.checkFile(out, option: "--out", inputs: images.map { .init("--images", $0) }) }
        var preprocessing = PETRPreprocessing.vovnet800x320
        preprocessing.width = width
        preprocessing.height = height
        preprocessing.dctScaling = !exact
        let tensor = try preprocessing.batch(files: images, threads: threads)
        var times: [Double] = []
        for _ in 0..<iterations {
            let start = ProcessStats.seconds()
            _ = try preprocessing.batch(files: images, threads: threads)
            times.append(ProcessStats.seconds() - start)
        }
        if let out { try SafeTensorsWriter.write([("images", tensor)], to: out) }
        let median = times.isEmpty ? nil : times.sorted()[times.count / 2]
        if json {
            let fps = median.map { String(format: "%.3f", 1 / $0) } ?? "null"
            let ms = median.map { String(format: "%.3f", $0 * 1000) } ?? "null"
            print("{\"images\": \(images.count), \"shape\": \(tensor.shape), \"threads\": \(threads), \"exact\": \(exact), "
                  + "\"iterations\": \(iterations), \"median_ms\": \(ms), \"frames_per_second\": \(fps)}")
        } else {
            print("tensor \(tensor.shape)" + (median.map { String(format: ", median %.2f ms, %.1f sets/s", $0 * 1000, 1 / $0) } ?? ""))
        }
    }
}

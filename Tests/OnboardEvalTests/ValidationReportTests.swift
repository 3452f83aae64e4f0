import Foundation
import OnboardEval
import OnboardTestSupport
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The validation report directory: report.json (round trip, keys), report.md tables, index.html
/// (self-contained, escaped, well-formed SVG charts).
final class ValidationReportTests: XCTestCase {
    var directory = ""

    override func setUp() { directory = TestPaths.temporaryDirectory("validation-report") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// A summary where every class has APs `base + k/100` at the 4 thresholds and TP errors `error`
    /// (NaN where the devkit leaves them undefined).
    func summary(base: Double, error: Double) -> MetricsSummary {
        let config = DetectionConfig.cvpr2019
        var aps: [String: [Double: Double]] = [:], errors: [String: [String: Double]] = [:]
        for name in config.classNames {
            aps[name] = Dictionary(uniqueKeysWithValues: config.distanceThresholds.enumerated().map { ($0.element, base + Double($0.offset) / 100) })
            errors[name] = Dictionary(uniqueKeysWithValues: DetectionConstants.tpMetricNames.map { ($0, error) })
        }
        errors["traffic_cone"]?["orient_err"] = .nan
        errors["traffic_cone"]?["vel_err"] = .nan
        errors["traffic_cone"]?["attr_err"] = .nan
        errors["barrier"]?["vel_err"] = .nan
        errors["barrier"]?["attr_err"] = .nan
        return MetricsSummary(config: config, labelAPs: aps, labelTPErrors: errors, evalTime: 1.5,
                              meta: .object(["use_camera": .bool(true)]))
    }

    func report() -> ValidationReport {
        ValidationReport(
            model: "petr-<demo>", dataset: "nuscenes-synth & co", split: "synth_val", sampleCount: 12, pseudoGroundTruth: true,
            fp32: summary(base: 0.5, error: 0.25), int8: summary(base: 0.4, error: 0.3),
            latencyMs: .init(fp32: 400, int8: 160),
            stageLatencyMs: .init(fp32: ["backbone": 300, "head": 100], int8: ["backbone": 120, "head": 40]),
            stageOrder: ["backbone", "head"],
            peakMemoryBytes: .init(fp32: 200 << 20, int8: 100 << 20),
            weightsBytes: .init(fp32: 80 << 20, int8: 20 << 20),
            activationPeakBytes: .init(fp32: 40 << 20, int8: 10 << 20),
            layers: [
                .init(name: "head.fc", kind: "linear", accumulatedDB: 18.5, isolatedDB: 30.25, cosine: 0.99, maxError: 0.5),
                .init(name: "blocks.0.<script>&", kind: "gelu", accumulatedDB: 9.75, isolatedDB: .infinity, cosine: 0.9, maxError: 2),
            ],
            suggestedExclusions: [.init(op: "blocks.0.<script>&", gain: 4.5, unit: .dB), .init(op: "head.fc", gain: 0.012, unit: .mAP)],
            floatOps: ["norm", "softmax"])
    }

    func test_writesTheThreeFilesAndJSONRoundTrips() throws {
        let paths = try ValidationReportWriter.write(report(), to: "\(directory)/out")
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent }, ["report.json", "report.md", "index.html"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/out").sorted(),
                       ["index.html", "report.json", "report.md"])

        let data = try XCTUnwrap(FileManager.default.contents(atPath: "\(directory)/out/report.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["fp32", "int8", "latency_ms", "stage_latency_ms", "peak_memory_bytes", "weights_bytes", "activation_peak_bytes",
                    "layers", "suggested_exclusions", "float_ops", "pseudo_ground_truth", "sample_count", "dataset", "split", "model"] {
            XCTAssertNotNil(json[key], "missing \(key)")
        }
        let latency = try XCTUnwrap(json["latency_ms"] as? [String: Any])
        XCTAssertEqual(latency["fp32"] as? Double, 400)
        XCTAssertEqual((json["peak_memory_bytes"] as? [String: Any])?["int8"] as? Int, 100 << 20)
        // The metrics keep the keys of `onboard eval`'s metrics_summary.json.
        let fp32 = try XCTUnwrap(json["fp32"] as? [String: Any])
        XCTAssertEqual(Set(fp32.keys), ["label_aps", "mean_dist_aps", "mean_ap", "label_tp_errors", "tp_errors", "tp_scores",
                                        "nd_score", "eval_time", "cfg", "meta"])
        XCTAssertEqual(fp32["mean_ap"] as? Double ?? 0, 0.515, accuracy: 1e-12)
        XCTAssertEqual(((fp32["label_aps"] as? [String: Any])?["car"] as? [String: Any])?["2.0"] as? Double ?? 0, 0.52, accuracy: 1e-12)
        XCTAssertEqual(((fp32["label_tp_errors"] as? [String: Any])?["barrier"] as? [String: Any])?["vel_err"] as? String, "NaN")
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        XCTAssertEqual(layers[1]["isolated_sqnr_db"] as? String, "inf")
        XCTAssertEqual(layers[0]["accumulated_sqnr_db"] as? Double, 18.5)

        let back = try ValidationReportWriter.read("\(directory)/out/report.json")
        XCTAssertEqual(back.fp32.meanAP, 0.515, accuracy: 1e-12)
        XCTAssertEqual(back.int8.ndScore, report().int8.ndScore, accuracy: 1e-12)
        XCTAssertEqual(back.fp32.config, DetectionConfig.cvpr2019)
        XCTAssertTrue(back.fp32.labelTPErrors["traffic_cone"]?["orient_err"]?.isNaN == true)
        XCTAssertEqual(back.layers, report().layers)
        XCTAssertEqual(back.suggestedExclusions, report().suggestedExclusions)
        XCTAssertEqual(back.stageLatencyMs.int8, ["backbone": 120, "head": 40])
        XCTAssertEqual(back.fp32.meta, .object(["use_camera": .bool(true)]))
    }

    func test_markdownTablesShowDropsSpeedUpsAndMemory() throws {
        try ValidationReportWriter.write(report(), to: directory)
        let markdown = try String(contentsOfFile: "\(directory)/report.md", encoding: .utf8)
        // mAP 0.515 -> 0.415: drop 0.1, 19.4 % of FP32.
        XCTAssertTrue(markdown.contains("| mAP | 0.5150 | 0.4150 | +0.1000 | +19.4% | higher |"), markdown)
        // Errors 0.25 -> 0.3 (NaN-skipping means): INT8 worse by 0.05.
        XCTAssertTrue(markdown.contains("| mATE | 0.2500 | 0.3000 | +0.0500 | +20.0% | lower |"), markdown)
        XCTAssertTrue(markdown.contains("| car | 0.5150 | 0.4150 | +0.1000 | +19.4% |"), markdown)
        XCTAssertTrue(markdown.contains("| traffic_cone | 0.250 → 0.300 | 0.250 → 0.300 | n/a → n/a | n/a → n/a | n/a → n/a |"), markdown)
        XCTAssertTrue(markdown.contains("| backbone | 300.00 | 120.00 | 2.50× |"), markdown)
        XCTAssertTrue(markdown.contains("| frame (total) | 400.00 | 160.00 | 2.50× |"), markdown)
        XCTAssertTrue(markdown.contains("| weights | 80.00 MiB | 20.00 MiB | 0.25 |"), markdown)
        // Worst layer first; the infinite isolated SQNR is printed as such.
        XCTAssertTrue(markdown.contains("| 1 | blocks.0.&lt;script&gt;&amp; | gelu | 9.75 | ∞ | 0.90000 | 2.0000 |"), markdown)
        XCTAssertTrue(markdown.contains("| head.fc | +0.0120 mAP |"), markdown)
        XCTAssertTrue(markdown.contains("pseudo ground truth"), markdown)
        XCTAssertTrue(markdown.hasPrefix("# Validation report: petr-&lt;demo&gt;\n"), markdown)
        XCTAssertFalse(markdown.contains("<script"), markdown)
    }

    func test_htmlIsSelfContainedEscapedAndItsChartsAreWellFormedSVG() throws {
        try ValidationReportWriter.write(report(), to: directory)
        let html = try String(contentsOfFile: "\(directory)/index.html", encoding: .utf8)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"))
        XCTAssertFalse(html.lowercased().contains("<script"))
        XCTAssertFalse(html.contains("<link"))
        XCTAssertTrue(html.contains("blocks.0.&lt;script&gt;&amp;"))
        XCTAssertTrue(html.contains("petr-&lt;demo&gt;"))
        let charts = svgElements(html)
        XCTAssertEqual(charts.count, 4)  // AP per class, per-layer SQNR, stage latency, memory
        for chart in charts { XCTAssertTrue(isWellFormedXML(chart), chart) }
        // AP chart: 10 classes x 2 series bars.
        XCTAssertEqual(charts[0].components(separatedBy: "<rect").count - 1, 10 * 2 + 2)
        // SQNR chart worst first.
        let worst = try XCTUnwrap(charts[1].range(of: "blocks.0.&lt;script&gt;&amp;")), next = try XCTUnwrap(charts[1].range(of: "head.fc"))
        XCTAssertLessThan(worst.lowerBound, next.lowerBound)
    }
}

/// The `<svg ...>...</svg>` elements of a page.
func svgElements(_ text: String) -> [String] {
    var result: [String] = []
    var rest = text[...]
    while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        result.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return result
}

/// Parses with Foundation's XMLParser (FoundationXML on Linux).
func isWellFormedXML(_ text: String) -> Bool {
    XMLParser(data: Data(text.utf8)).parse()
}

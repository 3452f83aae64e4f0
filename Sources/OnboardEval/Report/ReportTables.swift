/// A table of a validation report, independent of the output format (Markdown or HTML).
struct ReportTable {
    let title: String
    let note: String?
    let headers: [String]
    let rows: [[String]]
    /// Columns after the first are numbers (right-aligned).
    var numericFrom = 1
}

/// The tables of `report.md` and `index.html`, built once from the report.
enum ReportTables {
    /// Rows of the per-layer table (the JSON has all of them).
    static let layerRows = 40

    static func all(_ report: ValidationReport) -> [ReportTable] {
        [metrics(report), classAPs(report), tpErrors(report), stages(report), memory(report)] + (report.machines.map { [machines($0)] } ?? [])
            + [layers(report), exclusions(report)]
    }

    /// Headline detection figures; drop > 0 means INT8 is worse (lower score or higher error).
    static func metrics(_ report: ValidationReport) -> ReportTable {
        let fp32Errors = report.fp32.tpErrors, int8Errors = report.int8.tpErrors
        var rows: [(String, Double, Double, Bool)] = [
            ("mAP", report.fp32.meanAP, report.int8.meanAP, true),
            ("NDS", report.fp32.ndScore, report.int8.ndScore, true),
        ]
        for (metric, label) in zip(DetectionConstants.tpMetricNames, ["mATE", "mASE", "mAOE", "mAVE", "mAAE"]) {
            rows.append((label, fp32Errors[metric] ?? .nan, int8Errors[metric] ?? .nan, false))
        }
        return ReportTable(
            title: "Detection metrics", note: "A positive drop means INT8 is worse (lower mAP/NDS or higher error).",
            headers: ["metric", "FP32", "INT8", "drop", "drop %", "better"],
            rows: rows.map { name, fp32, int8, higherIsBetter in
                let drop = higherIsBetter ? fp32 - int8 : int8 - fp32
                return [name, Markup.number(fp32, 4), Markup.number(int8, 4), Markup.signed(drop, 4),
                        Markup.percent(drop, of: fp32), higherIsBetter ? "higher" : "lower"]
            })
    }

    /// Classes in the FP32 summary's config order.
    static func classNames(_ report: ValidationReport) -> [String] { report.fp32.config.classNames }

    static func classAPs(_ report: ValidationReport) -> ReportTable {
        let fp32 = report.fp32.meanDistAPs, int8 = report.int8.meanDistAPs
        return ReportTable(
            title: "AP per class (mean over distance thresholds)", note: nil,
            headers: ["class", "FP32 AP", "INT8 AP", "drop", "drop %"],
            rows: classNames(report).map { name in
                let a = fp32[name] ?? .nan, b = int8[name] ?? .nan
                return [name, Markup.number(a, 4), Markup.number(b, 4), Markup.signed(a - b, 4), Markup.percent(a - b, of: a)]
            })
    }

    static func tpErrors(_ report: ValidationReport) -> ReportTable {
        let metrics = DetectionConstants.tpMetricNames
        return ReportTable(
            title: "TP errors per class (FP32 → INT8)", note: "n/a: undefined for the class (as in the devkit).",
            headers: ["class", "ATE", "ASE", "AOE", "AVE", "AAE"],
            rows: classNames(report).map { name in
                [name] + metrics.map { metric in
                    let a = report.fp32.labelTPErrors[name]?[metric] ?? .nan
                    let b = report.int8.labelTPErrors[name]?[metric] ?? .nan
                    return "\(Markup.number(a, 3)) → \(Markup.number(b, 3))"
                }
            })
    }

    static func stages(_ report: ValidationReport) -> ReportTable {
        func row(_ name: String, _ fp32: Double?, _ int8: Double?) -> [String] {
            let a = fp32 ?? .nan, b = int8 ?? .nan
            let speedup = a.isFinite && b.isFinite && b > 0 ? String(format: "%.2f×", a / b) : "n/a"
            return [name, Markup.number(a, 2), Markup.number(b, 2), speedup]
        }
        let stageRows = report.orderedStages.map { row($0, report.stageLatencyMs.fp32[$0], report.stageLatencyMs.int8[$0]) }
        return ReportTable(
            title: "Latency per stage (median ms)",
            note: "speed-up = FP32 ms / INT8 ms." + (report.latencyFrames.map {
                " \($0) frames per precision, FP32 and INT8 run in turn on the same samples."
            } ?? ""),
            headers: ["stage", "FP32 ms", "INT8 ms", "speed-up"],
            rows: stageRows + [row("frame (total)", report.latencyMs.fp32, report.latencyMs.int8)])
    }

    static func memory(_ report: ValidationReport) -> ReportTable {
        func row(_ name: String, _ values: ValidationReport.PerPrecision<Int>) -> [String] {
            let ratio = values.fp32 > 0 ? String(format: "%.2f", Double(values.int8) / Double(values.fp32)) : "n/a"
            return [name, Markup.bytes(values.fp32), Markup.bytes(values.int8), ratio]
        }
        return ReportTable(
            title: "Memory", note: "activations: the memory planner's arena; peak: measured resident memory.",
            headers: ["", "FP32", "INT8", "INT8 / FP32"],
            rows: [row("weights", report.weightsBytes), row("activations (planned)", report.activationPeakBytes),
                   row("peak (measured)", report.peakMemoryBytes)])
    }

    /// The machines of a sharded run, a row each.
    static func machines(_ machines: [MachineFigures]) -> ReportTable {
        ReportTable(
            title: "Machines", note: "The run was sharded (onboard merge): latency is the median of the machines' medians, "
                + "peak memory the largest machine's.",
            headers: ["shard", "host", "CPU (ISA)", "threads", "samples", "wall s", "FP32 ms", "INT8 ms", "peak FP32", "peak INT8"],
            rows: machines.map { m in
                [m.shard, m.host, "\(m.cpu) (\(m.isa))", "\(m.threads) of \(m.cores)", "\(m.samples)", Markup.number(m.wallSeconds, 1),
                 Markup.number(m.latencyMs.fp32, 2), Markup.number(m.latencyMs.int8, 2), Markup.bytes(m.peakMemoryBytes.fp32),
                 Markup.bytes(m.peakMemoryBytes.int8)]
            },
            numericFrom: 4)
    }

    static func layers(_ report: ValidationReport) -> ReportTable {
        let worst = report.layersWorstFirst
        let shown = worst.prefix(layerRows)
        let note = worst.count > shown.count
            ? "The \(shown.count) worst of \(worst.count) layers by accumulated SQNR; report.json lists all."
            : "Worst first by accumulated SQNR (whole graph in INT8); isolated: only that op quantized."
        return ReportTable(
            title: "Per-layer SQNR", note: note,
            headers: ["#", "layer", "kind", "accumulated dB", "isolated dB", "cosine", "max error"],
            rows: shown.enumerated().map { index, layer in
                ["\(index + 1)", layer.name, layer.kind, Markup.number(layer.accumulatedDB, 2), Markup.number(layer.isolatedDB, 2),
                 Markup.number(layer.cosine, 5), Markup.number(layer.maxError, 4)]
            },
            numericFrom: 3)
    }

    static func exclusions(_ report: ValidationReport) -> ReportTable {
        ReportTable(
            title: "Suggested float exclusions", note: "gain measured with the op(s) kept in float.",
            headers: ["op", "gain"],
            rows: report.suggestedExclusions.map { exclusion in
                let gain = exclusion.unit == .dB
                    ? Markup.signed(exclusion.gain, 2) + " dB"
                    : Markup.signed(exclusion.gain, 4) + " mAP"
                return [exclusion.op, gain]
            })
    }
}

#!/usr/bin/env python3
"""The low-bit ViT ladder on the Q-PETR demo's backbone (not part of the test suite).

  tools/lowbit_ladder.py --sets HELDOUT_A [HELDOUT_B ...] --work DIR [--split synth_train]
      [--onboard .build/release/onboard] [--recipes qpetr-int8 qpetr-w4a8-naive ... | FILE.json ...]

For each recipe (Configs/recipes/qpetr-*.json; the low-bit ones scope `img_backbone.`, so the head
keeps the kit's INT8), `onboard validate` calibrates on 32 samples of Calibration/demo-synth-s11.json
and scores FP32 and the quantized model on every held-out set (`onboard synth ... --rig demo-6cam`).
Printed: mAP and NDS pooled over the sets (sample-weighted means), the relative drop from FP32, the
model's time per frame (`onboard bench`: the FP32 bundle and every recipe's quantized bundle from the
first set, in turn for --bench-rounds rounds, medians; else validate's detection latency; time it on
an otherwise idle machine) and its ratio to FP32, the share of per-patch inputs kept as outliers, and the bytes the executor
holds for the backbone's Linears with their ratio to the 8-bit per-channel ones (qpetr-w8a8-naive).
Stdlib only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = ["qpetr-int8", "qpetr-w8a8-naive", "qpetr-w8a8-adfq", "qpetr-w4a8-naive", "qpetr-w4a8-adfq", "qpetr-w4a8-adfq-cfws",
           "qpetr-w4a4-naive", "qpetr-w4a4-adfq", "qpetr-w4a4-adfq-cfws"]


def validate(onboard, recipe, dataroot, split, out):
    report = os.path.join(out, "report.json")
    if not os.path.exists(report):
        cmd = [onboard, "validate", "--model", os.path.join(ROOT, "Configs/models/qpetr-demo"), "--data", dataroot, "--split", split,
               "--calibration", os.path.join(ROOT, "Calibration/demo-synth-s11.json"), "--calibration-samples", "32",
               "--recipe", recipe if recipe.endswith(".json") else os.path.join(ROOT, "Configs/recipes", recipe + ".json"), "--diagnosis-samples", "1",
               "--bootstrap", "0", "--latency-samples", "10", "--out", out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(report) as f:
        return json.load(f)


def bench(onboard, models, rounds):
    """Median ms per model of `onboard bench` (random inputs, 10 iterations a round), the models in
    turn each round: (directory, precision) -> ms."""
    times = {model: [] for model in models}
    for round_index in range(rounds):
        print(f"bench round {round_index + 1}/{rounds}", file=sys.stderr)
        for directory, precision in models:
            out = subprocess.run([onboard, "bench", "--model", directory, "--precision", precision, "--iterations", "10", "--json"],
                                 check=True, capture_output=True, text=True).stdout
            times[(directory, precision)].append(json.loads(out)["median_ms"])
    return {model: statistics.median(values) for model, values in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", required=True)
    p.add_argument("--split", default="synth_train")
    p.add_argument("--work", required=True)
    p.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    p.add_argument("--recipes", nargs="+", default=RECIPES)
    p.add_argument("--bench-rounds", type=int, default=5, help="alternating rounds of `onboard bench` (0: none)")
    a = p.parse_args()
    rows = {}
    for recipe in a.recipes:
        reports = []
        for index, dataroot in enumerate(a.sets):
            print(f"{recipe}: set {index + 1}/{len(a.sets)}", file=sys.stderr)
            name = os.path.splitext(os.path.basename(recipe))[0]
            reports.append(validate(a.onboard, recipe, dataroot, a.split, os.path.join(a.work, f"{name}-{index}")))
        weights = [r["sample_count"] for r in reports]

        def pooled(precision, metric):
            key = {"mAP": "mean_ap", "NDS": "nd_score"}[metric]
            return sum(r[precision][key] * w for r, w in zip(reports, weights)) / sum(weights)
        rows[recipe] = {
            "samples": sum(weights),
            "fp32": {m: pooled("fp32", m) for m in ("mAP", "NDS")},
            "int8": {m: pooled("int8", m) for m in ("mAP", "NDS")},
            "latency_ms": {p: statistics.median(r["latency_ms"][p] for r in reports) for p in ("fp32", "int8")},
            "low_bit_weights_bytes": reports[0].get("low_bit_weights_bytes"),
            "low_bit_outlier_fraction": reports[0].get("low_bit_outlier_fraction"),
        }
    if a.bench_rounds > 0:
        float_model = (os.path.join(ROOT, "Configs/models/qpetr-demo"), "fp32")
        models = [float_model] + [(os.path.join(a.work, f"{os.path.splitext(os.path.basename(recipe))[0]}-0", "model-int8"), "int8")
                                  for recipe in rows]
        medians = bench(a.onboard, models, a.bench_rounds)
        for recipe, model in zip(rows, models[1:]):
            rows[recipe]["bench_ms"] = {"fp32": medians[float_model], "int8": medians[model]}
    reference = rows.get("qpetr-w8a8-naive", {}).get("low_bit_weights_bytes")
    first = next(iter(rows.values()))
    print("| recipe | mAP | NDS | mAP drop | NDS drop | model ms | vs FP32 | backbone Linear bytes | vs 8-bit | outliers |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    timing = "bench_ms" if "bench_ms" in first else "latency_ms"
    print(f"| FP32 | {first['fp32']['mAP']:.4f} | {first['fp32']['NDS']:.4f} | | | {first[timing]['fp32']:.1f} | | | | |")
    for recipe, row in rows.items():
        drop = {m: 100 * (row["int8"][m] / row["fp32"][m] - 1) for m in ("mAP", "NDS")}
        size = row["low_bit_weights_bytes"]
        ratio = f"{size / reference:.3f}" if size and reference else ""
        outliers = row["low_bit_outlier_fraction"]
        print(f"| {recipe} | {row['int8']['mAP']:.4f} | {row['int8']['NDS']:.4f} | {drop['mAP']:+.2f} % | {drop['NDS']:+.2f} % | "
              f"{row[timing]['int8']:.1f} | {row[timing]['int8'] / row[timing]['fp32']:.2f} | {size or ''} | {ratio} | "
              f"{'' if outliers is None else f'{100 * outliers:.3f} %'} |")
    with open(os.path.join(a.work, "ladder.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

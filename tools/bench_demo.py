#!/usr/bin/env python3
"""The Q-PETR demo per frame, FP32 against INT8, quiet and with one core kept busy, and the peak
resident memory of INT8 and FP32 detection against the planned peak.

  python3 tools/bench_demo.py --data onboard-demo/data-s7 --recipe qpetr-int8 qpetr-int8-w7

Validates Configs/models/qpetr-demo once per recipe on --data (a camera set, e.g. the held-out one
`onboard demo` renders; calibrated on Calibration/demo-synth-s11.json), which gives the INT8 bundle
and its mAP/NDS against FP32; then alternates `onboard bench` of FP32 and of each INT8 bundle, each
quiet and then with a `yes > /dev/null` process running (one core busy), for --rounds rounds
(figures are medians over rounds); last, runs `onboard detect` on --data in each precision and
reports the child's peak RSS. Needs only the Python standard library.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

MODEL = "Configs/models/qpetr-demo"
CALIBRATION = "Calibration/demo-synth-s11.json"


def run(cmd: list[str]) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr.strip()}")
    return p.stdout


def bench(args, bundle: str, precision: str) -> dict:
    out = run([args.onboard, "bench", "--model", bundle, "--precision", precision, "--iterations", str(args.iterations),
               "--threads", str(args.threads), "--json"])
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def peak_rss_mib(cmd: list[str]) -> float:
    """The child's peak resident set (getrusage of the waited child)."""
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{child.stderr.read().decode().strip()}")
    return usage.ru_maxrss / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--recipe", nargs="+", default=["qpetr-int8"], help="INT8 recipes (shipped names or JSON files)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calibration-samples", type=int, default=32)
    ap.add_argument("--data", required=True, help="a camera set (nuScenes layout) to validate and detect on")
    ap.add_argument("--no-contention", action="store_true", help="quiet runs only")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="onboard-bench-demo-") as work:
        configs, scores = [("fp32", MODEL, "fp32")], {}
        for recipe in args.recipe:
            path = recipe if os.path.exists(recipe) else f"Configs/recipes/{recipe}.json"
            bundle = os.path.join(work, f"int8-{os.path.basename(recipe).removesuffix('.json')}")
            print(f"validating {MODEL} with {recipe}", file=sys.stderr, flush=True)
            run([args.onboard, "validate", "--model", MODEL, "--data", args.data, "--calibration", CALIBRATION,
                 "--recipe", path, "--calibration-samples", str(args.calibration_samples), "--diagnosis-samples", "0",
                 "--out", bundle, "--threads", str(args.threads)])
            with open(os.path.join(bundle, "report.json")) as f:
                report = json.load(f)
            scores["fp32"] = report["fp32"]["mean_ap"], report["fp32"]["nd_score"]
            scores[f"int8 {recipe}"] = report["int8"]["mean_ap"], report["int8"]["nd_score"]
            configs.append((f"int8 {recipe}", os.path.join(bundle, "model-int8"), "int8"))

        loads = ["quiet"] if args.no_contention else ["quiet", "busy"]
        times = {(name, load): [] for name, _, _ in configs for load in loads}
        planned = {}
        for r in range(args.rounds):
            for load in loads:
                busy = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) if load == "busy" else None
                try:
                    for name, bundle, precision in configs:
                        report = bench(args, bundle, precision)
                        times[(name, load)].append(report["median_ms"])
                        planned[name] = report["weights_bytes"] + report["activation_peak_bytes"]  # scratch is in the arena
                finally:
                    if busy:
                        busy.kill()
                        busy.wait()
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {l} {v[-1]:.1f} ms" for (n, l), v in times.items()),
                  file=sys.stderr, flush=True)

        rss = {}
        for name, bundle, precision in configs:
            out = os.path.join(work, "results.json")
            rss[name] = peak_rss_mib([args.onboard, "detect", "--model", bundle, "--precision", precision,
                                      "--data", args.data, "--out", out, "--threads", str(args.threads)])

    fp32 = statistics.median(times[("fp32", "quiet")])
    print(f"\nQ-PETR demo per frame ({args.threads} threads, {args.rounds} alternating rounds, medians of "
          f"{args.iterations}-iteration medians)")
    print(f"  {'config':28s} {'quiet ms':>9s} {'vs fp32':>8s}" + ("" if args.no_contention else f" {'busy ms':>9s} {'busy/quiet':>10s}")
          + f" {'planned MiB':>11s} {'detect peak RSS MiB':>20s} {'mAP':>7s} {'NDS':>7s}")
    for name, _, _ in configs:
        quiet = statistics.median(times[(name, "quiet")])
        line = f"  {name:28s} {quiet:9.2f} {fp32 / quiet:7.2f}x"
        if not args.no_contention:
            busy = statistics.median(times[(name, "busy")])
            line += f" {busy:9.2f} {busy / quiet:9.2f}x"
        line += f" {planned[name] / 2**20:11.2f}"
        line += f" {rss[name]:20.1f} {scores[name][0]:7.4f} {scores[name][1]:7.4f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

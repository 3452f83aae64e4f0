#!/usr/bin/env python3
"""all-MiniLM-L6-v2 latency on the same weights: ONNX Runtime FP32 and dynamic INT8 against Onboard
FP32 and INT8.

  /work/venv-lang/bin/python tools/bench_minilm.py [--model DIR] [--onnx DIR] [--onboard PATH]
      [--threads 2] [--rounds 3] [--iterations 10] [--warmup 2] [--lengths 16 64 256]
      [--batches 1 8] [--recipe R.json] [--json OUT] [--ort-only]

ORT runs tools/export_minilm_onnx.py's model.onnx and model_qint8.onnx (exported into --onnx when
missing): intra-op THREADS, inter-op 1, ORT_ENABLE_ALL; inputs random token ids in [1000, 30000)
of shape [B, L], attention mask all ones, token types 0; median of ITERATIONS session.run calls
after WARMUP. Onboard: `onboard bench --model DIR --precision fp32|int8 --batch B
--sequence-length L --iterations N --warmup W --threads T --json [--recipe R.json]` (its
`median_ms`; int8 on the float directory calibrates first, untimed, with --recipe or the shipped
minilm-int8). Each round runs the four engines in turn at every
(L, B); the table gives medians over rounds and the median of the per-round ratios Onboard / ORT.
--ort-only skips Onboard. Timings need an otherwise idle machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

from export_minilm_onnx import DEFAULT_OUT, INPUTS, exported, model_directory, session

ENGINES = ["ort_fp32", "ort_int8", "onboard_fp32", "onboard_int8"]


def isa() -> str:
    with open("/proc/cpuinfo") as f:
        flags = set(f.read().split())
    return " ".join(flag for flag in ["avx2", "avx512f", "avx512_vnni", "avx_vnni"] if flag in flags) or "none"


def ort_median_ms(sess, feeds: dict, iterations: int, warmup: int) -> float:
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def onboard_median_ms(args, precision: str, batch: int, length: int) -> float:
    command = [args.onboard, "bench", "--model", args.model, "--precision", precision, "--batch", str(batch),
               "--sequence-length", str(length), "--iterations", str(args.iterations), "--warmup", str(args.warmup),
               "--threads", str(args.threads), "--json"]
    if precision == "int8" and args.recipe:
        command += ["--recipe", args.recipe]
    p = subprocess.run(command, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{p.stderr}")
    return json.loads([line for line in p.stdout.splitlines() if line.strip().startswith("{")][-1])["median_ms"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model directory (default: $ONBOARD_MINILM_DIR or tools/fetch_minilm.sh)")
    ap.add_argument("--onnx", default=DEFAULT_OUT, help="directory of tools/export_minilm_onnx.py's models")
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recipe", help="the INT8 recipe (default: the one `onboard bench` uses, minilm-int8)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--ort-only", action="store_true")
    args = ap.parse_args(argv)
    args.model = args.model or model_directory()
    fp32, qint8 = exported(args.model, args.onnx)
    sessions = {"ort_fp32": session(fp32, args.threads), "ort_int8": session(qint8, args.threads)}
    engines = ENGINES[:2] if args.ort_only else ENGINES
    shapes = [(length, batch) for length in args.lengths for batch in args.batches]
    rng = np.random.default_rng(args.seed)
    feeds = {}
    for length, batch in shapes:
        ids = rng.integers(1000, 30000, size=(batch, length), dtype=np.int64)
        feeds[length, batch] = dict(zip(INPUTS, [ids, np.ones_like(ids), np.zeros_like(ids)]))

    times = {(shape, engine): [] for shape in shapes for engine in engines}
    for round_index in range(args.rounds):
        for length, batch in shapes:
            for engine in engines:
                if engine.startswith("ort"):
                    ms = ort_median_ms(sessions[engine], feeds[length, batch], args.iterations, args.warmup)
                else:
                    ms = onboard_median_ms(args, engine.split("_")[1], batch, length)
                times[(length, batch), engine].append(ms)
            print(f"round {round_index + 1} L {length} B {batch}: "
                  + ", ".join(f"{e} {times[(length, batch), e][-1]:.2f} ms" for e in engines), file=sys.stderr)

    rows = []
    for shape in shapes:
        row = {"sequence_length": shape[0], "batch": shape[1]}
        row.update({f"{e}_ms": statistics.median(times[shape, e]) for e in engines})
        if not args.ort_only:
            for p in ["fp32", "int8"]:
                row[f"onboard_over_ort_{p}"] = statistics.median(
                    o / r for o, r in zip(times[shape, f"onboard_{p}"], times[shape, f"ort_{p}"]))
        rows.append(row)

    print(f"all-MiniLM-L6-v2, {args.threads} threads, {args.rounds} rounds of {args.iterations} iterations "
          f"(medians); INT8 recipe {args.recipe or 'minilm-int8'}; ISA {isa()}; ONBOARD_ISA={os.environ.get('ONBOARD_ISA', '(unset)')}; "
          f"onnxruntime {ort.__version__}")
    columns = ["L", "B", "ORT FP32 ms", "ORT INT8 ms"]
    if not args.ort_only:
        columns += ["Onboard FP32 ms", "Onboard INT8 ms", "Onboard/ORT FP32", "Onboard/ORT INT8"]
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in rows:
        cells = [str(row["sequence_length"]), str(row["batch"])] + [f"{row[f'{e}_ms']:.2f}" for e in engines]
        if not args.ort_only:
            cells += [f"{row['onboard_over_ort_fp32']:.2f}", f"{row['onboard_over_ort_int8']:.2f}"]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "rounds": args.rounds, "iterations": args.iterations, "isa": isa(),
                       "recipe": args.recipe, "onboard_isa": os.environ.get("ONBOARD_ISA"), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

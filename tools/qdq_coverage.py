#!/usr/bin/env python3
"""ONNX Runtime's own QDQ models of full-size networks, imported by Onboard (`import-onnx
--quantized-out`) and run by its INT8 executor with the parameters they carry, against ONNX
Runtime on the same QDQ file, in one script. Per model and `quantize_static` setting: import time;
output agreement, the share of output elements within one output quantization step of ORT with
optimizations off (ORT_DISABLE_ALL: the file's DequantizeLinear → float op → QuantizeLinear) and
on (ORT_ENABLE_ALL: its integer kernels), on 4 seeded inputs; the SQNR of each against ORT FP32,
and of Onboard's against ORT's with optimizations off;
and the latency of Onboard INT8 against ORT (ORT_ENABLE_ALL) running the QDQ file, batch 1.

  /work/venv/bin/python tools/qdq_coverage.py [--onboard .build/release/onboard] [--models NAME ...]
      [--settings u8 s8pc] [--work /tmp/onboard-qdq-coverage] [--threads 2] [--rounds 3] [--iterations 10] [--json OUT]

Models as tools/onnx_coverage.py exports them (random weights, seeded; opset 17), calibrated by
`quantize_static` on its 8 seeded Gaussian inputs. Settings: `u8` (the defaults: uint8 asymmetric
activations, int8 symmetric per-tensor weights), `s8pc` (int8 activations, per-channel weights).
Latency: each round runs `onboard bench --json` (its median) and ORT (intra-op THREADS, inter-op 1;
median of ITERATIONS runs after 3 warm-up runs) in turn; medians over rounds, and the median of
the per-round ratios. Needs torch, timm, torchvision, onnx, onnxruntime; an idle machine for timings.
"""
import argparse, json, os, statistics, sys, time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
from safetensors.numpy import load_file, save_file

from bench_minilm import isa, ort_median_ms
from export_minilm_onnx import session
from onnx_coverage import MODELS, SHAPE, Reader, export, run

SETTINGS = {
    "u8": dict(),
    "s8pc": dict(activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True),
}
BATCH = 4


def plain_session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def sqnr(values, reference) -> float:
    return float(10 * np.log10((reference.astype(np.float64) ** 2).sum() / ((values - reference).astype(np.float64) ** 2).sum()))


def measure(name: str, setting: str, args) -> dict:
    folder = f"{args.work}/{name}"
    onnx_path, _, calibration = export(name, folder)
    qdq = f"{folder}/model_qdq_{setting}.onnx"
    if not os.path.exists(qdq):
        quantize_static(onnx_path, qdq, Reader(calibration), quant_format=QuantFormat.QDQ, **SETTINGS[setting])
    x = np.random.default_rng(3).standard_normal((BATCH,) + SHAPE[1:]).astype(np.float32)
    shape = "x".join(map(str, x.shape))
    start = time.perf_counter()
    run([args.onboard, "import-onnx", qdq, "--out", f"{folder}/{setting}-fp32", "--quantized-out", f"{folder}/{setting}-int8",
         "--input", f"input={shape}", "--force"])
    import_s = time.perf_counter() - start
    save_file({"input": x}, f"{folder}/input4.safetensors")
    run([args.onboard, "run", "--model", f"{folder}/{setting}-int8", "--precision", "int8", "--inputs", f"{folder}/input4.safetensors",
         "--out", f"{folder}/{setting}-out.safetensors", "--threads", str(args.threads)])
    ours = load_file(f"{folder}/{setting}-out.safetensors")["output"]
    step = json.load(open(f"{folder}/{setting}-int8/quant.json"))["activations"]["output"]["scale"]
    plain = plain_session(qdq).run(None, {"input": x})[0]
    fused = session(qdq, args.threads).run(None, {"input": x})[0]
    fp32 = session(onnx_path, args.threads).run(None, {"input": x})[0]
    row = {"model": name, "setting": setting, "import_s": import_s, "elements": int(ours.size),
           "within_plain": float((np.abs(ours - plain) <= step * 1.001).mean()),
           "within_fused": float((np.abs(ours - fused) <= step * 1.001).mean()),
           "max_steps_plain": float(np.abs(ours - plain).max() / step),
           "sqnr_onboard": sqnr(ours, fp32), "sqnr_ort_plain": sqnr(plain, fp32), "sqnr_ort_fused": sqnr(fused, fp32),
           "sqnr_vs_ort_plain": sqnr(ours, plain)}

    # Latency at batch 1: a bundle for that batch.
    run([args.onboard, "import-onnx", qdq, "--out", f"{folder}/{setting}-fp32-b1", "--quantized-out", f"{folder}/{setting}-int8-b1", "--force"])
    ort_session, feeds = session(qdq, args.threads), {"input": x[:1]}
    times = {"onboard": [], "ort": []}
    for round_index in range(args.rounds):
        out = run([args.onboard, "bench", "--model", f"{folder}/{setting}-int8-b1", "--precision", "int8", "--iterations",
                   str(args.iterations), "--threads", str(args.threads), "--json"])
        times["onboard"].append(json.loads([l for l in out.splitlines() if l.startswith("{")][-1])["median_ms"])
        times["ort"].append(ort_median_ms(ort_session, feeds, args.iterations, warmup=3))
        print(f"  {name} {setting} round {round_index + 1}: Onboard {times['onboard'][-1]:.1f} ms, ORT {times['ort'][-1]:.1f} ms", file=sys.stderr)
    row.update({"onboard_ms": statistics.median(times["onboard"]), "ort_ms": statistics.median(times["ort"]),
                "ratio": statistics.median(o / r for o, r in zip(times["onboard"], times["ort"]))})
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--models", nargs="+", default=["deit_small", "resnet18"], choices=list(MODELS))
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--work", default="/tmp/onboard-qdq-coverage")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows = [measure(name, setting, args) for name in args.models for setting in args.settings]
    print(f"\n{args.threads} threads, {args.rounds} rounds of {args.iterations} iterations (medians); ISA {isa()}; "
          f"ONBOARD_ISA={os.environ.get('ONBOARD_ISA', '(unset)')}; onnxruntime {ort.__version__}")
    print("| model | setting | import s | within 1 step of ORT (off / on) | max steps (off) | SQNR vs FP32: Onboard / ORT off / ORT on dB "
          "| SQNR vs ORT off dB | Onboard INT8 ms | ORT QDQ ms | Onboard/ORT |\n|" + "---|" * 10)
    for r in rows:
        print(f"| {r['model']} | {r['setting']} | {r['import_s']:.2f} | {100 * r['within_plain']:.1f} % / {100 * r['within_fused']:.1f} % "
              f"({r['elements']}) | {r['max_steps_plain']:.0f} | {r['sqnr_onboard']:.2f} / {r['sqnr_ort_plain']:.2f} / {r['sqnr_ort_fused']:.2f} "
              f"| {r['sqnr_vs_ort_plain']:.1f} | {r['onboard_ms']:.1f} | {r['ort_ms']:.1f} | {r['ratio']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "isa": isa(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

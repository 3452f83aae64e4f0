#!/usr/bin/env python3
"""Compare Onboard's latency with PyTorch and ONNX Runtime on the same weights.

  python tools/bench_peers.py --threads 2                   # fp32, DeiT-S and DeiT-Ti
  python tools/bench_peers.py --precision int8 --model deit_small_patch16_224

For each model: export a seeded random-weight bundle, time the peers on those
weights (batch 1, median of --iterations after --warmup runs), then run
`onboard bench` and `onboard run` on the bundle.  fp32 peers: PyTorch eager,
ONNX Runtime.  int8 peers: ONNX Runtime static per-tensor quantization in
QOperator and QDQ form (u8 activations / s8 weights, calibrated on random
inputs) and dynamic quantization.  If the onboard binary is missing, only the
peers are reported.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

from onboard_bundle import rel_err, write_bundle, write_safetensors

DEFAULT_MODELS = ["deit_small_patch16_224", "deit_tiny_patch16_224"]


def time_ms(fn, iterations: int, warmup: int) -> tuple[float, float]:
    """(median, p90) wall time of fn() in milliseconds."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iterations):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ts)), float(np.percentile(ts, 90))


class Context:
    """One model's shared state: the torch model, its input, ONNX files made on demand."""

    def __init__(self, model, x, work_dir, threads):
        self.model, self.x, self.work_dir, self.threads = model, x, work_dir, threads
        self._files = {}

    def onnx(self, kind: str = "fp32") -> str:
        if kind not in self._files:
            self._files[kind] = getattr(self, f"_make_{kind}")(os.path.join(self.work_dir, f"model.{kind}.onnx"))
        return self._files[kind]

    def _make_fp32(self, path):
        with warnings.catch_warnings():  # legacy (TorchScript) exporter deprecation / tracer warnings
            warnings.simplefilter("ignore")
            torch.onnx.export(self.model, (self.x,), path, opset_version=17, dynamo=False,
                              input_names=["pixel_values"], output_names=["logits"])
        return path

    def _make_pre(self, path):  # shape inference + graph cleanup recommended before quantization
        from onnxruntime.quantization.shape_inference import quant_pre_process
        quant_pre_process(self.onnx("fp32"), path)
        return path

    def _make_static(self, path, fmt):
        from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static

        class RandomImages(CalibrationDataReader):
            def __init__(self, shape, n=8):
                g = np.random.default_rng(0)
                self.batches = iter([{"pixel_values": g.standard_normal(shape, dtype=np.float32)}
                                     for _ in range(n)])

            def get_next(self):
                return next(self.batches, None)

        quantize_static(self.onnx("pre"), path, RandomImages(tuple(self.x.shape)), quant_format=fmt,
                        per_channel=False, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return path

    def _make_qop(self, path):
        from onnxruntime.quantization import QuantFormat
        return self._make_static(path, QuantFormat.QOperator)

    def _make_qdq(self, path):
        from onnxruntime.quantization import QuantFormat
        return self._make_static(path, QuantFormat.QDQ)

    def _make_dynamic(self, path):
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(self.onnx("pre"), path, weight_type=QuantType.QInt8)
        return path


def torch_eager(ctx: Context):
    def run():
        with torch.no_grad():
            return ctx.model(ctx.x)
    return run


def ort_session(kind: str):
    def make(ctx: Context):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = ctx.threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(ctx.onnx(kind), so, providers=["CPUExecutionProvider"])
        feed = {sess.get_inputs()[0].name: ctx.x.numpy()}
        return lambda: torch.from_numpy(sess.run(None, feed)[0])
    return make


PEERS = {
    "fp32": [("torch eager fp32", torch_eager), ("ort fp32", ort_session("fp32"))],
    "int8": [("ort int8 static QOperator", ort_session("qop")),
             ("ort int8 static QDQ", ort_session("qdq")),
             ("ort int8 dynamic", ort_session("dynamic"))],
}


def run_onboard(binary: str, args: list[str]) -> subprocess.CompletedProcess:
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{binary} {' '.join(args)} failed ({p.returncode}):\n{p.stderr.strip()}")
    return p


def onboard_bench(binary, bundle, args, precision=None) -> dict:
    p = run_onboard(binary, ["bench", "--model", bundle, "--precision", precision or args.precision,
                             "--iterations", str(args.iterations), "--threads", str(args.threads), "--json"])
    lines = [l for l in p.stdout.splitlines() if l.strip().startswith("{")]
    if not lines:
        raise RuntimeError(f"onboard bench printed no JSON object:\n{p.stdout}")
    return json.loads(lines[-1])


def onboard_logits(binary, bundle, x, work_dir, args) -> torch.Tensor:
    from safetensors.torch import load_file
    inp, out = os.path.join(work_dir, "inputs.safetensors"), os.path.join(work_dir, "outputs.safetensors")
    write_safetensors(inp, {"pixel_values": x})
    # `run` defaults to fp32; other precisions are requested explicitly.
    precision = [] if args.precision == "fp32" else ["--precision", args.precision]
    run_onboard(binary, ["run", "--model", bundle, "--inputs", inp, "--out", out,
                         "--threads", str(args.threads), *precision])
    return load_file(out)["logits"]


def onboard_quantize(binary, bundle, cfg, work_dir, args) -> str:
    """Calibrates Onboard on the same kind of data ORT is calibrated on (8 seeded random inputs)."""
    calibration = os.path.join(work_dir, "calibration")
    os.makedirs(calibration, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed + 1)
    for i in range(8):
        x = torch.randn(1, cfg["in_chans"], *cfg["image_size"], generator=generator)
        write_safetensors(os.path.join(calibration, f"{i:04d}.safetensors"), {"pixel_values": x})
    quantized = os.path.join(work_dir, "bundle-int8")
    recipe = []
    if args.recipe:
        shipped = os.path.join(os.path.dirname(__file__), "..", "Configs", "recipes", f"{args.recipe}.json")
        recipe = ["--recipe", args.recipe if os.path.exists(args.recipe) else shipped]
    run_onboard(binary, ["quantize", "--model", bundle, "--calibration", calibration, "--out", quantized,
                         "--threads", str(args.threads), *recipe])
    return quantized


def bench_model(name: str, args, work_dir: str) -> list[dict]:
    import timm
    torch.manual_seed(args.seed)
    model = timm.create_model(name, pretrained=False).eval()
    bundle = os.path.join(work_dir, "bundle")
    cfg = write_bundle(model, bundle, f"timm:{name}")
    x = torch.randn(1, cfg["in_chans"], *cfg["image_size"], generator=torch.Generator().manual_seed(args.seed))
    ctx = Context(model, x, work_dir, args.threads)
    with torch.no_grad():
        ref = model(x)

    peers = []
    for label, make in PEERS[args.precision]:
        fn = make(ctx)
        peers.append((label, fn, rel_err(fn(), ref)))

    onboard_err = None
    fp32_bundle = bundle
    if not os.path.exists(args.onboard):
        print(f"  onboard binary not found at {args.onboard} (build it with `swift build -c release`); "
              "peers only", flush=True)
    else:
        try:
            if args.precision == "int8":
                bundle = onboard_quantize(args.onboard, bundle, cfg, work_dir, args)
            onboard_err = rel_err(onboard_logits(args.onboard, bundle, x, work_dir, args), ref)
        except (RuntimeError, OSError, KeyError, ValueError) as e:
            print(f"  onboard failed: {e}", flush=True)

    # Rounds alternate every engine, so a slow spell of the machine hits all of them; each
    # figure is the median over rounds of per-round medians, each ratio the median of per-round ratios.
    timings = {label: [] for label, _, _ in peers}
    timings["onboard"] = []
    # INT8 runs also time Onboard's FP32 on the same weights, for the INT8 / FP32 ratio.
    own_fp32 = args.precision == "int8" and onboard_err is not None
    if own_fp32:
        timings["onboard fp32"] = []
    last = {}
    for r in range(args.rounds):
        for label, fn, _ in peers:
            timings[label].append(time_ms(fn, args.iterations, args.warmup))
        if onboard_err is not None:
            last = onboard_bench(args.onboard, bundle, args)
            timings["onboard"].append((last["median_ms"], last["p90_ms"]))
        if own_fp32:
            fp32 = onboard_bench(args.onboard, fp32_bundle, args, "fp32")
            timings["onboard fp32"].append((fp32["median_ms"], fp32["p90_ms"]))
        print(f"  round {r + 1}/{args.rounds}: " + ", ".join(
            f"{k} {v[-1][0]:.2f} ms" for k, v in timings.items() if v), flush=True)

    def summary(label, err):
        runs = timings[label]
        row = dict(engine=label, median_ms=float(np.median([m for m, _ in runs])),
                   p90_ms=float(np.median([p for _, p in runs])), err=err)
        if timings["onboard"]:
            row["ratio"] = float(np.median([o[0] / m[0] for o, m in zip(timings["onboard"], runs)]))
        return row

    rows = [summary(label, err) for label, _, err in peers]
    if own_fp32:
        rows.append(summary("onboard fp32", float("nan")))
    if timings["onboard"]:
        rows.insert(0, summary("onboard", onboard_err) | dict(engine=f"onboard {args.precision}"))
        print(f"  onboard: weights {last.get('weights_bytes', 0) / 2**20:.1f} MiB, activation peak "
              f"{last.get('activation_peak_bytes', 0) / 2**20:.1f} MiB, peak RSS {last.get('peak_rss_bytes', 0) / 2**20:.1f} MiB",
              flush=True)
    return rows


def print_table(name: str, rows: list[dict], args) -> None:
    onboard = next((r for r in rows if r["engine"].startswith("onboard")), None)
    print(f"\n{name}  (batch 1, {args.threads} threads, {args.precision}, {args.rounds} alternating rounds)")
    print(f"  {'engine':28s} {'median ms':>10s} {'p90 ms':>8s} {'err vs torch':>13s} {'onboard/this':>13s}")
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if onboard and "ratio" in r else "-"
        print(f"  {r['engine']:28s} {r['median_ms']:10.2f} {r['p90_ms']:8.2f} {r['err']:13.1e} {ratio:>13s}")
    print("  (err = max |logits - torch fp32 logits| / max |torch fp32 logits|; "
          "onboard/this = median of per-round ratios)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="+", default=DEFAULT_MODELS, help="timm model names")
    ap.add_argument("--precision", choices=sorted(PEERS), default="fp32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of all engines (medians over rounds)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recipe", help="int8: the recipe `onboard quantize` uses (a shipped name or a JSON file)")
    ap.add_argument("--onboard", default=".build/release/onboard", help="onboard CLI binary")
    ap.add_argument("--work-dir", help="keep bundles/ONNX files here instead of a temp dir")
    ap.add_argument("--jpeg", nargs="+", metavar="IMG", help="instead: time the camera-set JPEG pipeline (bench_jpeg.py)")
    ap.add_argument("--gemm", action="store_true",
                    help="instead: INT8 GEMM throughput, Onboard's kernel vs ONNX Runtime MatMulInteger")
    ap.add_argument("--jpeg-size", default="800x320", help="network input WxH for --jpeg")
    args = ap.parse_args(argv)
    if args.jpeg:
        from bench_jpeg import bench_jpeg
        return bench_jpeg(args)
    if args.gemm:
        from bench_gemm import bench_gemm
        return bench_gemm(args)
    torch.set_num_threads(args.threads)

    results = {}
    for name in args.model:
        print(f"{name}:", flush=True)
        if args.work_dir:
            work = os.path.join(args.work_dir, name)
            os.makedirs(work, exist_ok=True)
            results[name] = bench_model(name, args, work)
        else:
            with tempfile.TemporaryDirectory(prefix="onboard-bench-") as work:
                results[name] = bench_model(name, args, work)
    for name, rows in results.items():
        print_table(name, rows, args)


if __name__ == "__main__":
    sys.exit(main())

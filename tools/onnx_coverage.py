#!/usr/bin/env python3
"""The ONNX import on full-size models, against ONNX Runtime on the same file, in one script:
per model, `onboard import-onnx` time, Onboard FP32's largest error against ORT FP32 (relative to
the largest output), and latency of Onboard FP32 / INT8 against ORT FP32 / INT8.

  /work/venv/bin/python tools/onnx_coverage.py [--onboard .build/release/onboard] [--models NAME ...]
      [--work /tmp/onboard-onnx-coverage] [--threads 2] [--rounds 3] [--iterations 10] [--json OUT]

Models (random weights, seeded; nothing is downloaded): timm deit_small_patch16_224 and
vit_base_patch16_224, torchvision resnet18, resnet50, mobilenet_v2, mobilenet_v3_large,
efficientnet_b0, each exported by `torch.onnx.export(..., opset_version=17, dynamo=False)` with a
dynamic batch, input [1, 3, 224, 224].
INT8: Onboard `quantize` with its default recipe (int8-per-tensor) and ORT `quantize_static`
(QDQ, per-tensor, int8 activations and weights), both calibrated on the same 8 seeded Gaussian
inputs. Latency: each round runs `onboard bench --json` (its median) for both precisions and ORT
(intra-op THREADS, inter-op 1, ORT_ENABLE_ALL; median of ITERATIONS runs after 3 warm-up runs) in
turn; the table gives medians over rounds and the median of the per-round ratios. Needs torch,
torchvision, timm, onnx and onnxruntime, and an otherwise idle machine for the timings.
"""
import argparse, json, os, statistics, subprocess, sys, time

import numpy as np
import onnxruntime as ort
import timm
import torch
import torchvision
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from safetensors.numpy import load_file, save_file

from bench_minilm import isa, ort_median_ms
from export_minilm_onnx import session

MODELS = {
    "deit_small": lambda: timm.create_model("deit_small_patch16_224", pretrained=False),
    "vit_base": lambda: timm.create_model("vit_base_patch16_224", pretrained=False),
    "resnet18": lambda: torchvision.models.resnet18(),
    "resnet50": lambda: torchvision.models.resnet50(),
    "mobilenet_v2": lambda: torchvision.models.mobilenet_v2(),
    "mobilenet_v3_large": lambda: torchvision.models.mobilenet_v3_large(),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(),
}
SHAPE = (1, 3, 224, 224)


def run(command: list[str]) -> str:
    p = subprocess.run(command, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{p.stderr}")
    return p.stdout


class Reader(CalibrationDataReader):
    def __init__(self, inputs):
        self.items = iter([{"input": x} for x in inputs])

    def get_next(self):
        return next(self.items, None)


def export(name: str, folder: str):
    """The model's ONNX file in `folder` (exported once), its seeded input and 8 calibration inputs."""
    os.makedirs(folder, exist_ok=True)
    onnx_path = f"{folder}/model.onnx"
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    x = torch.randn(*SHAPE, generator=torch.Generator().manual_seed(1))
    if not os.path.exists(onnx_path):
        with torch.no_grad():
            torch.onnx.export(model, (x,), onnx_path, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17, dynamo=False)
    rng = np.random.default_rng(2)
    return onnx_path, x, [rng.standard_normal(SHAPE).astype(np.float32) for _ in range(8)]


def prepare(name: str, work: str, onboard: str) -> dict:
    """Exports, imports, checks FP32 and quantizes both ways; returns paths and accuracy figures."""
    folder = f"{work}/{name}"
    onnx_path, x, calibration = export(name, folder)
    qdq_path = f"{folder}/model_qdq.onnx"
    os.makedirs(f"{folder}/calibration", exist_ok=True)
    for i, sample in enumerate(calibration):
        save_file({"input": sample}, f"{folder}/calibration/{i}.safetensors")
    if not os.path.exists(qdq_path):
        quantize_static(onnx_path, qdq_path, Reader(calibration), quant_format=QuantFormat.QDQ, per_channel=False,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)

    start = time.perf_counter()
    run([onboard, "import-onnx", onnx_path, "--out", f"{folder}/bundle", "--force"])
    import_s = time.perf_counter() - start
    save_file({"input": x.numpy()}, f"{folder}/input.safetensors")
    run([onboard, "run", "--model", f"{folder}/bundle", "--inputs", f"{folder}/input.safetensors", "--out", f"{folder}/out.safetensors"])
    ours = load_file(f"{folder}/out.safetensors")["output"]
    (reference,) = session(onnx_path, 2).run(None, {"input": x.numpy()})
    run([onboard, "quantize", "--model", f"{folder}/bundle", "--calibration", f"{folder}/calibration",
         "--out", f"{folder}/bundle-int8", "--force"])
    return {"onnx": onnx_path, "qdq": qdq_path, "bundle": f"{folder}/bundle", "int8": f"{folder}/bundle-int8",
            "feeds": {"input": x.numpy()}, "import_s": import_s,
            "fp32_rel_error": float(np.abs(ours - reference).max() / np.abs(reference).max()),
            "onnx_mb": os.path.getsize(onnx_path) / 2**20}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--work", default="/tmp/onboard-onnx-coverage")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    rows = []
    for name in args.models:
        print(f"{name}: export, import, quantize", file=sys.stderr)
        item = prepare(name, args.work, args.onboard)
        sessions = {"fp32": session(item["onnx"], args.threads), "int8": session(item["qdq"], args.threads)}
        times = {key: [] for key in ["onboard_fp32", "onboard_int8", "ort_fp32", "ort_int8"]}
        for round_index in range(args.rounds):
            for precision, bundle in [("fp32", item["bundle"]), ("int8", item["int8"])]:
                out = run([args.onboard, "bench", "--model", bundle, "--precision", precision, "--iterations",
                           str(args.iterations), "--threads", str(args.threads), "--json"])
                times[f"onboard_{precision}"].append(json.loads([l for l in out.splitlines() if l.startswith("{")][-1])["median_ms"])
                times[f"ort_{precision}"].append(ort_median_ms(sessions[precision], item["feeds"], args.iterations, warmup=3))
            print(f"  round {round_index + 1}: " + ", ".join(f"{k} {v[-1]:.1f} ms" for k, v in times.items()), file=sys.stderr)
        row = {"model": name, "onnx_mb": item["onnx_mb"], "import_s": item["import_s"], "fp32_rel_error": item["fp32_rel_error"]}
        row.update({f"{k}_ms": statistics.median(v) for k, v in times.items()})
        for p in ["fp32", "int8"]:
            row[f"ratio_{p}"] = statistics.median(o / r for o, r in zip(times[f"onboard_{p}"], times[f"ort_{p}"]))
        rows.append(row)

    print(f"\n{args.threads} threads, {args.rounds} rounds of {args.iterations} iterations (medians); ISA {isa()}; "
          f"ONBOARD_ISA={os.environ.get('ONBOARD_ISA', '(unset)')}; onnxruntime {ort.__version__}")
    print("| model | ONNX MB | import s | max error / max output | Onboard FP32 ms | ORT FP32 ms | Onboard/ORT FP32 "
          "| Onboard INT8 ms | ORT INT8 (QDQ) ms | Onboard/ORT INT8 |\n|" + "---|" * 10)
    for r in rows:
        print(f"| {r['model']} | {r['onnx_mb']:.1f} | {r['import_s']:.2f} | {r['fp32_rel_error']:.1e} | {r['onboard_fp32_ms']:.1f} "
              f"| {r['ort_fp32_ms']:.1f} | {r['ratio_fp32']:.2f} | {r['onboard_int8_ms']:.1f} | {r['ort_int8_ms']:.1f} | {r['ratio_int8']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "isa": isa(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

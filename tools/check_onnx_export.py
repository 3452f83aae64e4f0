#!/usr/bin/env python3
"""`onboard export-onnx` checked by ONNX Runtime: each bundle is exported, ORT runs the file on
seeded inputs, and its outputs must equal `onboard run`'s on the same inputs within 1e-4 of the
largest output.

With --int8, each bundle is also quantized (`onboard quantize`, 4 seeded Gaussian calibration
inputs, the default recipe) and exported with `--quantized`; ORT runs the QDQ file twice: as
written (ORT_DISABLE_ALL: QuantizeLinear/DequantizeLinear as defined, float ops between) and with
its default optimizations (QDQ fused into its integer kernels). The share of output elements within
one output quantization step of `onboard run --precision int8` must be >= 99 % for the former;
the latter is reported.

  python tools/check_onnx_export.py [--onboard .build/debug/onboard] [--int8] [BUNDLE ...]

Default bundles: the ViT fixtures (Tests/Fixtures/vit/*), Configs/models/vit-demo, and graph
bundles imported from Tests/Fixtures/onnx/*.onnx. Needs numpy, safetensors and onnxruntime only.
Exits 1 when a bundle differs.
"""
import argparse, glob, json, os, subprocess, sys, tempfile

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command):
    p = subprocess.run(command, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{p.stderr}")
    return p.stdout


def check(onboard: str, bundle: str, work: str, rng) -> float:
    path = f"{work}/{os.path.basename(bundle)}.onnx"
    run([onboard, "export-onnx", "--model", bundle, "--out", path])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {i.name: rng.standard_normal([d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
             for i in session.get_inputs()}
    save_file(feeds, f"{work}/inputs.safetensors")
    run([onboard, "run", "--model", bundle, "--inputs", f"{work}/inputs.safetensors", "--out", f"{work}/out.safetensors"])
    ours = load_file(f"{work}/out.safetensors")
    worst = 0.0
    for meta, value in zip(session.get_outputs(), session.run(None, feeds)):
        worst = max(worst, float(np.abs(ours[meta.name] - value).max() / max(np.abs(value).max(), 1e-12)))
    return worst


def check_int8(onboard: str, bundle: str, work: str, rng) -> tuple[float, float, int]:
    """Share of output elements within one step: ORT as written, ORT optimized; element count."""
    calibration = f"{work}/calibration"
    os.makedirs(calibration, exist_ok=True)
    path = f"{work}/{os.path.basename(bundle)}.onnx"
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    shapes = {i.name: [d if isinstance(d, int) else 1 for d in i.shape] for i in session.get_inputs()}
    for i in range(4):
        save_file({n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}, f"{calibration}/{i}.safetensors")
    quantized = f"{work}/quantized"
    run([onboard, "quantize", "--model", bundle, "--calibration", calibration, "--out", quantized, "--force"])
    qdq = f"{work}/{os.path.basename(bundle)}-qdq.onnx"
    run([onboard, "export-onnx", "--model", bundle, "--quantized", quantized, "--out", qdq])
    run([onboard, "run", "--model", quantized, "--precision", "int8", "--inputs", f"{work}/inputs.safetensors",
         "--out", f"{work}/out8.safetensors"])
    ours = load_file(f"{work}/out8.safetensors")
    feeds = load_file(f"{work}/inputs.safetensors")
    steps = json.load(open(f"{quantized}/quant.json"))["activations"]
    shares = []
    for level in [ort.GraphOptimizationLevel.ORT_DISABLE_ALL, ort.GraphOptimizationLevel.ORT_ENABLE_ALL]:
        options = ort.SessionOptions()
        options.graph_optimization_level = level
        qsession = ort.InferenceSession(qdq, options, providers=["CPUExecutionProvider"])
        within = total = 0
        for meta, value in zip(qsession.get_outputs(), qsession.run(None, feeds)):
            step = steps[meta.name]["scale"]
            within += int((np.abs(ours[meta.name] - value) <= step * 1.001).sum())
            total += value.size
        shares.append(within / total)
    return shares[0], shares[1], total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=f"{ROOT}/.build/debug/onboard")
    ap.add_argument("--int8", action="store_true", help="also check the INT8 (QDQ) export")
    ap.add_argument("bundles", nargs="*")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    failed = 0
    with tempfile.TemporaryDirectory() as work:
        bundles = args.bundles or sorted(
            d for d in glob.glob(f"{ROOT}/Tests/Fixtures/vit/*") if os.path.isdir(d)) + [f"{ROOT}/Configs/models/vit-demo"]
        if not args.bundles:
            for model in sorted(glob.glob(f"{ROOT}/Tests/Fixtures/onnx/*.onnx")):
                out = f"{work}/imported-{os.path.basename(model)[:-5]}"
                run([args.onboard, "import-onnx", model, "--out", out])
                bundles.append(out)
        for bundle in bundles:
            worst = check(args.onboard, bundle, work, rng)
            ok = worst <= 1e-4
            failed += not ok
            label = os.path.relpath(bundle, ROOT) if bundle.startswith(ROOT) else os.path.basename(bundle)
            print(f"{'ok  ' if ok else 'FAIL'} {label}: ORT vs onboard run {worst:.1e} of the largest output")
            if args.int8:
                exact, fused, count = check_int8(args.onboard, bundle, work, rng)
                ok = exact >= 0.99
                failed += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {label} INT8: {100 * exact:.1f} % of {count} output elements within one step "
                      f"of onboard's INT8 (ORT as written), {100 * fused:.1f} % with ORT's fused integer kernels")
    checks = len(bundles) * (2 if args.int8 else 1)
    print(f"{checks - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

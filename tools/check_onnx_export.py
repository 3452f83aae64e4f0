#!/usr/bin/env python3
"""`onboard export-onnx` checked by ONNX Runtime: each bundle is exported, ORT runs the file on
seeded inputs, and its outputs must equal `onboard run`'s on the same inputs within 1e-4 of the
largest output.

With --int8, each bundle is also quantized (`onboard quantize`, 4 seeded Gaussian calibration
inputs, the default recipe) and exported with `--quantized`; ORT runs the QDQ file twice: as
written (ORT_DISABLE_ALL: QuantizeLinear/DequantizeLinear as defined, float ops between) and with
its default optimizations (QDQ fused into its integer kernels). Reported: the share of output
elements within one output quantization step of `onboard run --precision int8`, and per tensor
the SQNR against FP32 of ORT-as-written (its FP32 export as the reference) next to what `onboard
compare` measures for Onboard INT8 (accumulated); the check fails when the median difference
over the tensors exceeds 0.5 dB (the exported scales do not reproduce Onboard's quantization).

  python tools/check_onnx_export.py [--onboard .build/debug/onboard] [--int8] [BUNDLE ...]

Default bundles: the ViT fixtures (Tests/Fixtures/vit/*), Configs/models/vit-demo, and graph
bundles imported from Tests/Fixtures/onnx/*.onnx (but the QDQ models, `*_qdq_*.onnx`). Needs numpy, safetensors and onnxruntime only.
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


def every_value(path: str, feeds: dict, level) -> dict:
    """Every node output of the model at `path` (ONNX names), run by ORT at optimization `level`."""
    import onnx
    model = onnx.load(path)
    names = [node.output[0] for node in model.graph.node]
    del model.graph.output[:]
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in names)
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(None, feeds)))


def sqnr_db(value, reference) -> float:
    return float(10 * np.log10(max((reference ** 2).sum(), 1e-30) / max(((value - reference) ** 2).sum(), 1e-30)))


def check_int8(onboard: str, bundle: str, work: str, rng) -> tuple[float, float, int, float, float, int]:
    """Share of output elements within one step (ORT as written, ORT optimized), element count,
    and the median and largest per-tensor SQNR difference (dB) over the tensors compared."""
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
    fp32_path = f"{work}/{os.path.basename(bundle)}.onnx"
    disable = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    reference, quantized_values = every_value(fp32_path, feeds, disable), every_value(qdq, feeds, disable)
    compared = json.loads(run([onboard, "compare", "--model", bundle, "--quantized", quantized, "--inputs",
                               f"{work}/inputs.safetensors", "--json"]))["tensors"]
    gaps = [abs(sqnr_db(quantized_values[t["name"]], reference[t["name"]]) - t["accumulated"]["sqnr_db"])
            for t in compared if t["name"] in reference and t["name"] in quantized_values
            and np.isfinite(t["accumulated"]["sqnr_db"]) and t["accumulated"]["sqnr_db"] < 200]
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
    return shares[0], shares[1], total, float(np.median(gaps)), float(max(gaps)), len(gaps)


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
            # ORT's own QDQ fixtures (tools/make_qdq_fixtures.py) are checked by QDQImportTests.
            for model in sorted(m for m in glob.glob(f"{ROOT}/Tests/Fixtures/onnx/*.onnx") if "_qdq_" not in m):
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
                exact, fused, count, median_gap, worst_gap, tensors = check_int8(args.onboard, bundle, work, rng)
                ok = median_gap <= 0.5
                failed += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {label} INT8: per-tensor SQNR of ORT QDQ vs Onboard INT8 differs by "
                      f"{median_gap:.2f} dB median, {worst_gap:.2f} dB at most ({tensors} tensors); {100 * exact:.1f} % of "
                      f"{count} output elements within one step of Onboard's ({100 * fused:.1f} % with ORT's fused kernels)")
    checks = len(bundles) * (2 if args.int8 else 1)
    print(f"{checks - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

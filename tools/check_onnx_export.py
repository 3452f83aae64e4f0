#!/usr/bin/env python3
"""`onboard export-onnx` checked by ONNX Runtime: each bundle is exported, ORT runs the file on
seeded inputs, and its outputs must equal `onboard run`'s on the same inputs within 1e-4 of the
largest output.

  python tools/check_onnx_export.py [--onboard .build/debug/onboard] [BUNDLE ...]

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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=f"{ROOT}/.build/debug/onboard")
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
            print(f"{'ok  ' if ok else 'FAIL'} {os.path.relpath(bundle, ROOT) if bundle.startswith(ROOT) else os.path.basename(bundle)}: "
                  f"ORT vs onboard run {worst:.1e} of the largest output")
    print(f"{len(bundles) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

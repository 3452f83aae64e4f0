#!/usr/bin/env python3
"""The Q-PETR demo exported to ONNX and scored through ONNX Runtime on a held-out camera set,
against Onboard's own FP32 and INT8 on the same set.

  python3 tools/check_detector_onnx.py [--data onboard-demo/data-s7] [--recipe qpetr-int8-qdq]

Without --data, renders the demo's held-out set (`onboard demo`'s: rig demo-6cam, seed 7, 50 scenes
of 2 samples) into the work directory first.

1. `onboard validate` calibrates Configs/models/qpetr-demo (Calibration/demo-synth-s11.json) with
   the recipe and gives the INT8 bundle and Onboard's FP32 / INT8 mAP and NDS on --data.
2. `onboard export-onnx` writes the FP32 model and the INT8 one as QDQ at Onboard's scales.
3. `onboard detect --record-graph` runs each precision over --data and keeps every sample's graph
   inputs (images, coords3d) and outputs.
4. ONNX Runtime runs both exported models on those inputs (the QDQ model as written, optimizations
   off, and with ORT's default optimizations, i.e. its fused integer kernels), and `onboard detect
   --graph-outputs` decodes what it computed; `onboard eval` scores every results file.
5. Agreement: per output tensor, the share of elements within one quantization step (the plan's
   scale of that output) of Onboard's INT8 values; FP32: the largest difference relative to the
   largest output.

Scores every split of the set and the whole set (a split `every_sample` of all its scenes, in a
shadow copy of the tables). Prints one JSON document (and a table on stderr). Needs onnxruntime,
onnx, numpy and safetensors (tools/requirements-onnx.txt), no torch. Fails (exit 1) when the mAP
through ORT INT8 (as written) on the whole set differs from Onboard INT8's by more than 0.005, or
FP32 outputs differ by more than 1e-4 of the largest. (A 20-sample split alone moves by more than
that when the calibration's float bits change with the ISA.)
"""

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file, save_file

from bench_demo import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = f"{ROOT}/Configs/models/qpetr-demo"
CALIBRATION = f"{ROOT}/Calibration/demo-synth-s11.json"
OUTPUTS = ["cls_scores", "bbox_raw", "pos_embed", "memory"]
WHOLE_SET = "every_sample"


def session(path: str, optimized: bool, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized
                                        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    options.intra_op_num_threads = threads
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run_ort(model: str, optimized: bool, recorded: str, out: str, threads: int) -> None:
    """ORT on every recorded sample's graph inputs; its outputs to out/<token>.safetensors."""
    s = session(model, optimized, threads)
    names = [i.name for i in s.get_inputs()]
    os.makedirs(out, exist_ok=True)
    for path in sorted(glob.glob(f"{recorded}/*.safetensors")):
        tensors = load_file(path)
        values = s.run(OUTPUTS, {n: tensors[n] for n in names})
        save_file(dict(zip(OUTPUTS, values)), f"{out}/{os.path.basename(path)}")


def agreement(ours: str, theirs: str, steps: dict) -> dict:
    """Per output: share of elements within one step of Onboard's INT8 value, and the largest
    difference in steps."""
    within, total, worst = {n: 0 for n in OUTPUTS}, {n: 0 for n in OUTPUTS}, {n: 0.0 for n in OUTPUTS}
    for path in sorted(glob.glob(f"{ours}/*.safetensors")):
        a, b = load_file(path), load_file(f"{theirs}/{os.path.basename(path)}")
        for n in OUTPUTS:
            gap = np.abs(a[n] - b[n]) / steps[n]
            within[n] += int((gap <= 1.001).sum())
            total[n] += gap.size
            worst[n] = max(worst[n], float(gap.max()))
    every = sum(within.values()) / sum(total.values())
    return {"all_outputs": every, **{n: {"within_one_step": within[n] / total[n], "max_steps": worst[n]} for n in OUTPUTS}}


def fp32_error(ours: str, theirs: str) -> float:
    worst = 0.0
    for path in sorted(glob.glob(f"{ours}/*.safetensors")):
        a, b = load_file(path), load_file(f"{theirs}/{os.path.basename(path)}")
        for n in OUTPUTS:
            worst = max(worst, float(np.abs(a[n] - b[n]).max() / max(np.abs(a[n]).max(), 1e-30)))
    return worst


def shadow_tables(data: str, version: str, work: str) -> str:
    """A dataroot whose tables link to `data`'s, with a split of every scene added (eval needs only tables)."""
    root = f"{work}/eval-root"
    tables = f"{root}/{version}"
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(tables)
    for path in glob.glob(f"{data}/{version}/*.json"):
        if os.path.basename(path) != "splits.json":
            os.symlink(os.path.abspath(path), f"{tables}/{os.path.basename(path)}")
    splits = json.load(open(f"{data}/{version}/splits.json"))
    splits[WHOLE_SET] = [scene["name"] for scene in json.load(open(f"{data}/{version}/scene.json"))]
    with open(f"{tables}/splits.json", "w") as f:
        json.dump(splits, f)
    return root


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=f"{ROOT}/.build/release/onboard")
    ap.add_argument("--data", help="held-out camera set (nuScenes layout); default: render the demo's (seed 7)")
    ap.add_argument("--recipe", default="qpetr-int8-qdq", help="shipped recipe name or JSON file")
    ap.add_argument("--calibration-samples", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", help="keep the intermediate files here (default: a temporary directory)")
    args = ap.parse_args(argv)
    recipe = args.recipe if os.path.exists(args.recipe) else f"{ROOT}/Configs/recipes/{args.recipe}.json"
    ob = [args.onboard]
    log = lambda text: print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="onboard-detector-onnx-") as scratch:
        work = args.work or scratch
        os.makedirs(work, exist_ok=True)
        if args.data is None:
            args.data = f"{work}/data-s7"
            if not os.path.isdir(args.data):
                log("rendering the demo's held-out set (seed 7)")
                run(ob + ["synth", "--out", args.data, "--rig", "demo-6cam", "--scenes", "50", "--samples-per-scene", "2",
                          "--seed", "7", "--threads", str(args.threads)])
        version = os.path.basename(glob.glob(f"{args.data}/v1.0-*")[0])
        eval_root = shadow_tables(args.data, version, work)
        splits = [WHOLE_SET] + sorted(json.load(open(f"{args.data}/{version}/splits.json")))
        log(f"validating {MODEL} with {recipe}")
        run(ob + ["validate", "--model", MODEL, "--data", args.data, "--calibration", CALIBRATION, "--recipe", recipe,
                  "--calibration-samples", str(args.calibration_samples), "--diagnosis-samples", "0",
                  "--out", f"{work}/validation", "--threads", str(args.threads), "--force"])
        quantized = f"{work}/validation/model-int8"
        report = json.load(open(f"{work}/validation/report.json"))
        run(ob + ["export-onnx", "--model", MODEL, "--out", f"{work}/fp32.onnx"])
        run(ob + ["export-onnx", "--model", MODEL, "--quantized", quantized, "--out", f"{work}/int8.onnx"])

        results = {}
        for precision, bundle in [("fp32", MODEL), ("int8", quantized)]:
            log(f"onboard detect {precision}")
            results[f"onboard {precision}"] = f"{work}/onboard-{precision}.json"
            run(ob + ["detect", "--model", bundle, "--data", args.data, "--precision", precision, "--threads", str(args.threads),
                      "--out", results[f"onboard {precision}"], "--record-graph", f"{work}/recorded-{precision}"])
        runs = [("ort fp32", "fp32.onnx", False, "fp32"), ("ort int8", "int8.onnx", False, "int8"),
                ("ort int8 optimized", "int8.onnx", True, "int8")]
        for name, model, optimized, precision in runs:
            log(name)
            outputs = f"{work}/{name.replace(' ', '-')}"
            run_ort(f"{work}/{model}", optimized, f"{work}/recorded-{precision}", outputs, args.threads)
            results[name] = f"{work}/{name.replace(' ', '-')}.json"
            run(ob + ["detect", "--model", MODEL, "--data", args.data, "--graph-outputs", outputs, "--out", results[name]])

        steps = {n: v["scale"] for n, v in json.load(open(f"{quantized}/quant.json"))["activations"].items() if n in OUTPUTS}
        document = {"data": args.data, "recipe": os.path.relpath(recipe, ROOT), "samples": len(glob.glob(f"{work}/recorded-fp32/*.safetensors")),
                    "validate": {"fp32": {"mean_ap": report["fp32"]["mean_ap"], "nd_score": report["fp32"]["nd_score"]},
                                 "int8": {"mean_ap": report["int8"]["mean_ap"], "nd_score": report["int8"]["nd_score"]}},
                    "metrics": {},
                    "fp32_max_error_of_largest_output": fp32_error(f"{work}/recorded-fp32", f"{work}/ort-fp32"),
                    "int8_agreement": agreement(f"{work}/recorded-int8", f"{work}/ort-int8", steps),
                    "int8_agreement_optimized": agreement(f"{work}/recorded-int8", f"{work}/ort-int8-optimized", steps)}
        for name, path in results.items():
            metrics = {}
            for split in splits:
                out = f"{work}/metrics-{name.replace(' ', '-')}-{split}.json"
                run(ob + ["eval", "--data", eval_root, "--version", version, "--split", split, "--results", path, "--out", out])
                m = json.load(open(out))
                metrics[split] = {"mean_ap": m["mean_ap"], "nd_score": m["nd_score"]}
            document["metrics"][name] = metrics
    print(json.dumps(document, indent=2))
    for name, metrics in document["metrics"].items():
        log(f"{name:20s} " + "  ".join(f"{s}: mAP {m['mean_ap']:.4f} NDS {m['nd_score']:.4f}" for s, m in metrics.items()))
    log(f"FP32 ORT vs Onboard: {document['fp32_max_error_of_largest_output']:.1e} of the largest output")
    for key in ["int8_agreement", "int8_agreement_optimized"]:
        log(f"{key}: {100 * document[key]['all_outputs']:.2f} % of output elements within one step of Onboard INT8")
    gap = abs(document["metrics"]["ort int8"][WHOLE_SET]["mean_ap"] - document["metrics"]["onboard int8"][WHOLE_SET]["mean_ap"])
    ok = gap <= 0.005 and document["fp32_max_error_of_largest_output"] <= 1e-4
    log("ok" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

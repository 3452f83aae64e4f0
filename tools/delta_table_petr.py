#!/usr/bin/env python3
"""Issue 31's detector delta table: the Q-PETR demo fine-tuned to a new rig (`Sensors/demo-6cam-van.json`,
docs/deltas.md) against its base, compressed at 8x-128x by DeltaDQ (`onboard delta compress`, group
size searched on calibration inputs) and by DARE + RTN, BitDelta and RTN (tools/delta_methods.py),
each scored on the new rig's held-out set through `onboard detect` + `onboard eval` (mAP, NDS).

  /work/venv/bin/python tools/delta_table_petr.py --finetuned DIR --data HELDOUT --calibration-data TRAIN
      [--base Configs/models/qpetr-demo] [--split synth_val] [--ratios 8 16 32 64 128] [--work DIR] [--json OUT]

Ratio: the bundle's float weights at 16 bits (2 bytes x 2.14 M values) over the delta file's size on
disk. DeltaDQ is served as users serve it, `onboard detect --model BASE --delta D`; the other methods
are written as full bundles (base + their reconstruction, in f32 as Onboard merges). Calibration
inputs of DeltaDQ: the inputs of every Linear, 1x1 convolution and attention input projection of
the base model on 8 samples of --calibration-data's synth_train split (the fine-tune's training
data), 256 rows each, captured with torch hooks.
"""
import argparse, json, os, subprocess, sys, tempfile

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from delta_methods import Pair, compare  # noqa: E402


def capture_calibration(base, data, path, samples=8):
    import torch
    from torch import nn
    from demo_petr.model import DemoPETR
    from demo_petr.nuscenes_set import Crop, Tables, load_sample, normalize_images
    with open(os.path.join(base, "config.json")) as f:
        config = json.load(f)
    model = DemoPETR(config)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in load_file(os.path.join(base, "model.safetensors")).items()},
                          strict=False)
    model.eval()
    rows = {}

    def keep(name, x):
        rows.setdefault(name, []).append(x.detach().reshape(-1, x.shape[-1]))

    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: keep(f"{name}.weight", i[0])))
        elif isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: keep(f"{name}.weight", i[0].movedim(1, -1))))
        elif isinstance(module, nn.MultiheadAttention):
            # One in_proj_weight takes the query, key and value inputs (positions added to q and k).
            def inputs(m, args, name=name):
                for x in args[:3]:
                    keep(f"{name}.in_proj_weight", x)
            hooks.append(module.register_forward_pre_hook(inputs))
    crop = Crop(tuple(config["preprocess"]["source_size"]), tuple(config["image_size"]))
    tables = Tables(data, "v1.0-synth")
    tokens = tables.sample_tokens("synth_train")
    with torch.no_grad():
        for token in tokens[:: max(1, len(tokens) // samples)][:samples]:
            images, l2i, _, _ = load_sample(tables, token, crop)
            model(torch.from_numpy(normalize_images(images))[None], torch.from_numpy(l2i)[None])
    for hook in hooks:
        hook.remove()
    out = {}
    for name, chunks in rows.items():
        x = torch.cat(chunks).numpy()
        out[name] = np.ascontiguousarray(x[np.linspace(0, len(x) - 1, 256).astype(int)], dtype=np.float32)
    save_file(out, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    parser.add_argument("--base", default=os.path.join(ROOT, "Configs/models/qpetr-demo"))
    parser.add_argument("--finetuned", required=True)
    parser.add_argument("--data", required=True, help="held-out set of the new rig (onboard synth)")
    parser.add_argument("--split", default="synth_val")
    parser.add_argument("--calibration-data", required=True, help="the fine-tune's training set (its synth_train split)")
    parser.add_argument("--ratios", type=float, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--methods", nargs="+", default=["deltadq", "dare", "bitdelta", "rtn"],
                        help="deltadq (selection and low-rank part searched per tensor), deltadq-plain (no low-rank part), deltadq-magnitude, deltadq-seeded, dare, bitdelta, rtn")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "onboard-deltas-petr"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)

    def score(model, delta=None):
        results, metrics = os.path.join(args.work, "results.json"), os.path.join(args.work, "metrics.json")
        detect = [args.onboard, "detect", "--model", model, "--data", args.data, "--split", args.split, "--out", results,
                  "--threads", str(args.threads)]
        subprocess.run(detect + (["--delta", delta] if delta else []), check=True, capture_output=True, text=True)
        subprocess.run([args.onboard, "eval", "--data", args.data, "--version", "v1.0-synth", "--split", args.split,
                        "--results", results, "--out", metrics], check=True, capture_output=True, text=True)
        with open(metrics) as f:
            m = json.load(f)
        return m["mean_ap"], m["nd_score"]

    pair = Pair(args.base, args.finetuned)
    float_values = pair.float_values

    reference = score(args.finetuned)

    def row(method, ratio, size, detail, metrics):
        result = {"method": method, "target": ratio, "ratio": None if size is None else 2 * float_values / size, "bytes": size,
                  "detail": detail, "mAP": metrics[0], "NDS": metrics[1],
                  "mAP_vs_finetuned": metrics[0] / reference[0] - 1, "NDS_vs_finetuned": metrics[1] / reference[1] - 1}
        print(json.dumps(result), flush=True)
        return result

    results = [row("fine-tuned", None, None, "", reference), row("base", None, None, "", score(args.base))]
    calibration = os.path.join(args.work, "calibration.safetensors")
    if any(m.startswith("deltadq") for m in args.methods) and not os.path.exists(calibration):
        capture_calibration(args.base, args.calibration_data, calibration)
    results += compare(args.onboard, pair, args.ratios, args.methods, args.work, calibration, score, row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

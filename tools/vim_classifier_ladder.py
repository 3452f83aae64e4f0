#!/usr/bin/env python3
"""The Vision Mamba quantization ladder on a classifier's logits (not part of the test suite).

  /work/venv/bin/python tools/vim_classifier_ladder.py --calibration CAL_SET --data HELDOUT_SET --work DIR
      [--onboard .build/release/onboard] [--config vim_tiny_patch16_224_...] [--crops 192]

Official Vim weights cannot be downloaded here, so the model is a registered Vim size with seeded
weights drawn as the official initialisation draws them (tools/vim_reference.random_weights),
saved as a checkpoint and converted by tools/export_vim.py. Inputs are 224x224 crops of the
camera images of `onboard synth` sets (resized to a short side of 224, bicubic; ImageNet
normalisation): 32 calibration crops from CAL_SET, --crops evaluation crops from HELDOUT_SET,
spread over cameras and samples. Each recipe of the ladder (Configs/recipes/vim-int8-*.json) is
applied by `onboard quantize`; `onboard run` gives FP32 and INT8 logits. Printed per recipe: the
logits' SQNR (pooled over the crops) and the top-1 agreement with FP32.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vim_reference import CONFIGS, IMAGENET_MEAN, IMAGENET_STD, random_weights, registered_config  # noqa: E402

RECIPES = ["vim-int8-naive", "vim-int8-hadamard", "vim-int8-klt-hadamard", "vim-int8-mambaquant", "vim-int8-mambaquant-per-channel"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def crops(dataroot, count, size=224):
    """`count` crops [count, 3, size, size] from the set's camera JPEGs, every k-th file."""
    files = sorted(glob.glob(os.path.join(dataroot, "samples", "CAM_*", "*.jpg")))
    if not files:
        raise SystemExit(f"{dataroot}: no camera images under samples/CAM_*")
    picked = [files[i * len(files) // count] for i in range(count)]
    mean, std = np.array(IMAGENET_MEAN, np.float32), np.array(IMAGENET_STD, np.float32)
    out = []
    for path in picked:
        image = Image.open(path).convert("RGB")
        w, h = image.size
        scale = size / min(w, h)
        image = image.resize((round(w * scale), round(h * scale)), Image.BICUBIC)
        w, h = image.size
        left, top = (w - size) // 2, (h - size) // 2
        x = (np.asarray(image.crop((left, top, left + size, top + size)), np.float32) / 255 - mean) / std
        out.append(x.transpose(2, 0, 1))
    return np.stack(out)


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calibration", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    p.add_argument("--config", default=next(iter(CONFIGS)))
    p.add_argument("--crops", type=int, default=192)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cfg = registered_config(args.config)
    checkpoint = os.path.join(args.work, "random.pth")
    bundle = os.path.join(args.work, "float")
    torch.save({"model": random_weights(cfg, seed=args.seed, perturb=False)}, checkpoint)
    run([sys.executable, os.path.join(ROOT, "tools/export_vim.py"), checkpoint, bundle, "--config", args.config])

    calibration = os.path.join(args.work, "calibration")
    os.makedirs(calibration, exist_ok=True)
    for i, x in enumerate(crops(args.calibration, 32)):
        save_file({"pixel_values": x[None]}, os.path.join(calibration, f"{i:03d}.safetensors"))
    evaluation = crops(args.data, args.crops)
    batch = 16
    inputs = []
    for start in range(0, len(evaluation), batch):
        path = os.path.join(args.work, f"eval-{start:04d}.safetensors")
        save_file({"pixel_values": np.ascontiguousarray(evaluation[start:start + batch])}, path)
        inputs.append(path)

    def logits(model, precision):
        out = []
        for path in inputs:
            result = path.replace("eval-", f"logits-{os.path.basename(model)}-")
            run([args.onboard, "run", "--model", model, "--inputs", path, "--out", result, "--precision", precision])
            out.append(load_file(result)["logits"])
        return np.concatenate(out).astype(np.float64)

    fp32 = logits(bundle, "fp32")
    rows = {}
    for recipe in RECIPES:
        quantized = os.path.join(args.work, recipe)
        run([args.onboard, "quantize", "--model", bundle, "--calibration", calibration, "--out", quantized, "--force",
             "--recipe", os.path.join(ROOT, "Configs/recipes", recipe + ".json")])
        int8 = logits(quantized, "int8")
        sqnr = 10 * np.log10((fp32 ** 2).sum() / ((fp32 - int8) ** 2).sum())
        agreement = float((fp32.argmax(1) == int8.argmax(1)).mean())
        rows[recipe] = {"logits_sqnr_db": sqnr, "top1_agreement": agreement}
        print(f"{recipe:34s} logits SQNR {sqnr:5.1f} dB  top-1 agreement {100 * agreement:5.1f} %", flush=True)
    with open(os.path.join(args.work, "ladder.json"), "w") as f:
        json.dump({"config": args.config, "crops": len(fp32), "seed": args.seed, "recipes": rows}, f, indent=1)


if __name__ == "__main__":
    main()

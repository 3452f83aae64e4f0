"""What the classifier ladders share (tools/vim_classifier_ladder.py, tools/lowbit_classifier_ladder.py):
224x224 crops of `onboard synth` camera images, and each recipe applied by `onboard quantize` and
scored on the logits `onboard run` gives against FP32's."""
import argparse
import glob
import json
import os
import subprocess

import numpy as np
from PIL import Image
from safetensors.numpy import load_file, save_file

from vim_reference import IMAGENET_MEAN, IMAGENET_STD

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


def ladder_arguments(doc):
    """The arguments every classifier ladder takes: the sets, the work directory and the binary."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calibration", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    return p


def ladder(bundle, calibration_set, data_set, work, onboard, recipes, count, report):
    """Quantizes `bundle` by each recipe on 32 crops of `calibration_set` and prints, per recipe, the
    logits' SQNR against FP32 (pooled over `count` crops of `data_set`) and the top-1 agreement;
    writes WORK/ladder.json with `report` and the rows."""
    calibration = os.path.join(work, "calibration")
    os.makedirs(calibration, exist_ok=True)
    for i, x in enumerate(crops(calibration_set, 32)):
        save_file({"pixel_values": x[None]}, os.path.join(calibration, f"{i:03d}.safetensors"))
    evaluation = crops(data_set, count)
    batch = 16
    inputs = []
    for start in range(0, len(evaluation), batch):
        path = os.path.join(work, f"eval-{start:04d}.safetensors")
        save_file({"pixel_values": np.ascontiguousarray(evaluation[start:start + batch])}, path)
        inputs.append(path)

    def logits(model, precision):
        out = []
        for path in inputs:
            result = path.replace("eval-", f"logits-{os.path.basename(model)}-")
            run([onboard, "run", "--model", model, "--inputs", path, "--out", result, "--precision", precision])
            out.append(load_file(result)["logits"])
        return np.concatenate(out).astype(np.float64)

    fp32 = logits(bundle, "fp32")
    rows = {}
    for recipe in recipes:
        quantized = os.path.join(work, recipe)
        run([onboard, "quantize", "--model", bundle, "--calibration", calibration, "--out", quantized,
             "--recipe", os.path.join(ROOT, "Configs/recipes", recipe + ".json")])
        int8 = logits(quantized, "int8")
        sqnr = 10 * np.log10((fp32 ** 2).sum() / ((fp32 - int8) ** 2).sum())
        agreement = float((fp32.argmax(1) == int8.argmax(1)).mean())
        rows[recipe] = {"logits_sqnr_db": sqnr, "top1_agreement": agreement}
        print(f"{recipe:34s} logits SQNR {sqnr:5.1f} dB  top-1 agreement {100 * agreement:5.1f} %", flush=True)
    with open(os.path.join(work, "ladder.json"), "w") as f:
        json.dump({**report, "crops": len(fp32), "recipes": rows}, f, indent=1)

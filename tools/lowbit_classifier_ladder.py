#!/usr/bin/env python3
"""The low-bit ViT ladder on a timm classifier's logits (not part of the test suite).

  /work/venv/bin/python tools/lowbit_classifier_ladder.py --calibration CAL_SET --data HELDOUT_SET --work DIR
      [--onboard .build/release/onboard] [--model deit_small_patch16_224] [--crops 128] [--seed 0]

timm's pretrained weights cannot be downloaded here, so the bundle is `tools/export_timm.py MODEL
--random` (timm's own initialisation, seeded): it has none of the outlier channels training grows,
which is what ADFQ-ViT's per-patch quantizer is for. Inputs are 224x224 crops of `onboard synth`
camera images (32 for calibration from CAL_SET, --crops from HELDOUT_SET), as in
tools/vim_classifier_ladder.py. Each recipe (Configs/recipes/vit-*.json; the low-bit ones scope the
blocks' Linears, so the patch embedding and the head stay 8-bit, as ADFQ-ViT keeps first and last
layers) is applied by `onboard quantize`; printed per recipe: the logits' SQNR against FP32 (pooled
over the crops) and the top-1 agreement with FP32.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classifier_ladder import ladder, ladder_arguments, run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = ["int8-per-tensor-percentile", "vit-w8a8-naive", "vit-w8a8-adfq", "vit-w4a8-naive", "vit-w4a8-adfq", "vit-w4a8-adfq-cfws",
           "vit-w4a4-naive", "vit-w4a4-adfq", "vit-w4a4-adfq-cfws"]


def main():
    p = ladder_arguments(__doc__)
    p.add_argument("--model", default="deit_small_patch16_224")
    p.add_argument("--crops", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recipes", nargs="+", default=RECIPES)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    bundle = os.path.join(args.work, "float")
    if not os.path.exists(os.path.join(bundle, "config.json")):
        run([sys.executable, os.path.join(ROOT, "tools/export_timm.py"), args.model, bundle, "--random", "--seed", str(args.seed)])
    ladder(bundle, args.calibration, args.data, args.work, args.onboard, args.recipes, args.crops,
           {"model": args.model, "seed": args.seed})


if __name__ == "__main__":
    main()

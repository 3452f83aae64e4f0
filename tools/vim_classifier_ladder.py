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
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classifier_ladder import ladder, ladder_arguments, run  # noqa: E402
from vim_reference import CONFIGS, random_weights, registered_config  # noqa: E402

RECIPES = ["vim-int8-naive", "vim-int8-hadamard", "vim-int8-klt-hadamard", "vim-int8-mambaquant", "vim-int8-mambaquant-per-channel"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = ladder_arguments(__doc__)
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

    ladder(bundle, args.calibration, args.data, args.work, args.onboard, RECIPES, args.crops,
           {"config": args.config, "seed": args.seed})


if __name__ == "__main__":
    main()

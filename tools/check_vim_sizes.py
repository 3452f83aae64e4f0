#!/usr/bin/env python3
"""Fidelity of `onboard run` on Vision Mamba at the official sizes (not part of the test suite).

  /work/venv/bin/python tools/check_vim_sizes.py [--onboard .build/release/onboard] [--models tiny small]

For each model: seeded random weights in the official layout saved as a checkpoint
({"model": state_dict}), converted by tools/export_vim.py with the registered config, run by
`onboard run` on seeded random pixel_values, and compared with tools/vim_reference.py in
float64 (and float32, for scale): max |error| / max |logit|. Exits 1 beyond --tolerance.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file

from onboard_bundle import write_safetensors
from vim_reference import CONFIGS, forward, random_weights, registered_config

SIZES = {"tiny": 0, "small": 2, "base": 4, "tiny_stride8": 1, "small_stride8": 3}


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.double() - b.double()).abs().max() / b.double().abs().max()).item()


def check(name: str, onboard: str, work: str, threads: int, seed: int, batch: int) -> tuple[float, float, float]:
    model = list(CONFIGS)[SIZES[name]]
    config = registered_config(model)
    weights = random_weights(config, seed=seed)
    checkpoint = os.path.join(work, f"{name}.pth")
    torch.save({"model": weights}, checkpoint)
    bundle = os.path.join(work, name)
    tools = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(tools, "export_vim.py"), checkpoint, bundle, "--config", model], check=True)
    pixels = torch.randn(batch, 3, *config["image_size"], generator=torch.Generator().manual_seed(seed + 1))
    inputs, outputs = os.path.join(work, f"{name}-in.safetensors"), os.path.join(work, f"{name}-out.safetensors")
    write_safetensors(inputs, {"pixel_values": pixels})
    subprocess.run([onboard, "run", "--model", bundle, "--inputs", inputs, "--out", outputs, "--threads", str(threads)], check=True)
    logits = load_file(outputs)["logits"]
    with torch.no_grad():
        exact = forward(config, {k: v.double() for k, v in weights.items()}, pixels.double())
        single = forward(config, weights, pixels)
    return relative(logits, exact), relative(single, exact), exact.abs().max().item()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--models", nargs="+", default=["tiny", "small"], choices=list(SIZES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args(argv)
    failed = False
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            onboard_err, torch_err, largest = check(name, args.onboard, work, args.threads, args.seed, args.batch)
            print(f"{name}: onboard run vs reference (float64): max |err| / max |logit| = {onboard_err:.2e} "
                  f"(PyTorch float32: {torch_err:.2e}; max |logit| {largest:.3f})")
            failed |= onboard_err > args.tolerance
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

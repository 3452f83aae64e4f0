#!/usr/bin/env python3
"""Vim FP32 latency: `onboard bench` against PyTorch eager running tools/vim_reference.py.

  /work/venv/bin/python tools/bench_vim.py [--model tiny] [--threads 2] [--rounds 5] [--iterations 5]

One seeded random-weight model at 224x224 (registered config), exported to a bundle by
tools/export_vim.py. Each round times PyTorch eager (torch.set_num_threads(THREADS), float32,
batch 1, median of ITERATIONS after a warm-up) and then `onboard bench --threads THREADS
--iterations ITERATIONS`; the table gives medians over rounds and the median of the per-round
ratios. Then `onboard profile` gives each op kind's share of the time (the selective scans' among
them), and `onboard run` is checked against the reference on the same image.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from safetensors.torch import load_file

from onboard_bundle import write_safetensors
from vim_reference import CONFIGS, forward, random_weights, registered_config

SIZES = {"tiny": 0, "tiny_stride8": 1, "small": 2, "small_stride8": 3, "base": 4}


def onboard_json(binary: str, arguments: list[str]) -> dict:
    p = subprocess.run([binary, *arguments, "--json"], check=True, capture_output=True, text=True)
    return json.loads([line for line in p.stdout.splitlines() if line.strip().startswith("{")][-1])


def torch_median_ms(config, weights, pixels, iterations: int) -> float:
    with torch.no_grad():
        forward(config, weights, pixels)
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            forward(config, weights, pixels)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny", choices=list(SIZES))
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    name = list(CONFIGS)[SIZES[args.model]]
    config = registered_config(name)
    weights = random_weights(config, seed=args.seed)
    pixels = torch.randn(1, 3, *config["image_size"], generator=torch.Generator().manual_seed(args.seed + 1))
    with tempfile.TemporaryDirectory(prefix="onboard-bench-vim-") as work:
        checkpoint, bundle = os.path.join(work, "model.pth"), os.path.join(work, "bundle")
        torch.save({"model": weights}, checkpoint)
        tools = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(tools, "export_vim.py"), checkpoint, bundle, "--config", name],
                       check=True, capture_output=True)
        inputs, outputs = os.path.join(work, "in.safetensors"), os.path.join(work, "out.safetensors")
        write_safetensors(inputs, {"pixel_values": pixels})
        subprocess.run([args.onboard, "run", "--model", bundle, "--inputs", inputs, "--out", outputs,
                        "--threads", str(args.threads)], check=True, capture_output=True)
        with torch.no_grad():
            reference = forward(config, weights, pixels)
        logits = load_file(outputs)["logits"]
        error = ((logits - reference).abs().max() / reference.abs().max()).item()

        torch_ms, onboard_ms, ratios = [], [], []
        for round_index in range(args.rounds):
            torch_ms.append(torch_median_ms(config, weights, pixels, args.iterations))
            bench = onboard_json(args.onboard, ["bench", "--model", bundle, "--iterations", str(args.iterations),
                                                "--threads", str(args.threads)])
            onboard_ms.append(bench["median_ms"])
            ratios.append(torch_ms[-1] / onboard_ms[-1])
            print(f"round {round_index + 1}: PyTorch eager {torch_ms[-1]:.1f} ms, onboard {onboard_ms[-1]:.1f} ms",
                  file=sys.stderr)
        profile = onboard_json(args.onboard, ["profile", "--model", bundle, "--runs", str(args.iterations),
                                              "--threads", str(args.threads)])

    by_kind: dict[str, float] = {}
    for op in profile["ops"]:
        by_kind[op["kind"]] = by_kind.get(op["kind"], 0.0) + op["ms"]
    total = sum(by_kind.values())
    print(f"{name}, 224x224, batch 1, FP32, {args.threads} threads, {args.rounds} rounds of {args.iterations}")
    print(f"  onboard run vs PyTorch float32 reference: max |err| / max |logit| = {error:.2e}")
    print(f"  PyTorch eager (vim_reference.py): median {statistics.median(torch_ms):.1f} ms")
    print(f"  onboard bench:                    median {statistics.median(onboard_ms):.1f} ms")
    print(f"  speed-up (median of per-round ratios): {statistics.median(ratios):.2f}x")
    print(f"  onboard profile: {total:.1f} ms over the ops; share by kind:")
    for kind, ms in sorted(by_kind.items(), key=lambda item: -item[1]):
        print(f"    {kind:16s} {ms:8.2f} ms  {100 * ms / total:5.1f} %")


if __name__ == "__main__":
    sys.exit(main())

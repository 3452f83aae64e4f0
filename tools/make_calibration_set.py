#!/usr/bin/env python3
"""Write a calibration set of seeded standard-normal inputs: OUT_DIR/NNNN.safetensors.

  python tools/make_calibration_set.py /tmp/calib --count 16 --shape 1,3,224,224 [--name pixel_values]

Random inputs are what the peer benchmarks calibrate ONNX Runtime with, so both sides see
the same kind of data; real camera sets come from `onboard synth` / recorded sets.
"""

import argparse
import os
import sys

import numpy as np
from safetensors.numpy import save_file


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--shape", default="1,3,224,224")
    ap.add_argument("--name", default="pixel_values")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    shape = tuple(int(d) for d in args.shape.split(","))
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for i in range(args.count):
        path = os.path.join(args.out_dir, f"{i:04d}.safetensors")
        tmp = path + ".tmp"
        save_file({args.name: rng.standard_normal(shape, dtype=np.float32)}, tmp)
        os.replace(tmp, path)
    print(f"wrote {args.count} samples of {args.name} {list(shape)} to {args.out_dir}")


if __name__ == "__main__":
    sys.exit(main())

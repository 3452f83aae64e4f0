#!/usr/bin/env python3
"""Export a timm ViT to an Onboard bundle (config.json + model.safetensors).

  python tools/export_timm.py deit_tiny_patch16_224 /tmp/deit_tiny --random

Pretrained weights come from the Hugging Face hub via timm; --random builds the
same architecture with seeded random weights instead (no network needed).
After writing, the bundle is checked: a forward pass computed from the bundle
alone (onboard_bundle.reference_forward) must match the timm model.
"""

import argparse
import os
import sys

import torch

from onboard_bundle import UnsupportedModel, check_bundle, round_params_to_fp16, write_bundle, write_safetensors


def build_model(name: str, random: bool, seed: int, img_size=None, num_classes=None, depth=None):
    import timm
    kwargs = {}
    if img_size is not None:
        kwargs["img_size"] = img_size
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    if depth is not None:
        kwargs["depth"] = depth
    if name not in timm.list_models():
        raise SystemExit(f"error: timm has no model named {name!r}")
    torch.manual_seed(seed)
    return timm.create_model(name, pretrained=not random, **kwargs).eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="timm model name, e.g. deit_small_patch16_224")
    ap.add_argument("out_dir", help="bundle directory to create/overwrite")
    ap.add_argument("--random", action="store_true", help="seeded random weights instead of pretrained")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed for --random (default 0)")
    ap.add_argument("--fp16", action="store_true", help="store tensors as float16")
    ap.add_argument("--img-size", type=int, help="override input resolution (square)")
    ap.add_argument("--num-classes", type=int, help="override classifier size (0 = no head)")
    ap.add_argument("--depth", type=int, help="override the number of blocks (random weights only)")
    ap.add_argument("--reference", type=int, metavar="BATCH",
                    help="also write reference.safetensors: seeded pixel_values [BATCH,C,H,W] and timm's logits")
    args = ap.parse_args(argv)
    if args.depth is not None and not args.random:
        raise SystemExit("error: --depth changes the architecture; use it with --random")

    try:
        model = build_model(args.model, args.random, args.seed, args.img_size, args.num_classes, args.depth)
    except Exception as e:  # typically a hub download failure for pretrained weights
        hint = "" if args.random else " (pretrained weights need the Hugging Face hub; try --random)"
        raise SystemExit(f"error: could not build {args.model}: {e}{hint}")
    if args.fp16:
        round_params_to_fp16(model)  # so the check below compares against the stored weights

    try:
        cfg = write_bundle(model, args.out_dir, f"timm:{args.model}", fp16=args.fp16)
    except UnsupportedModel as e:
        raise SystemExit(f"error: unsupported model structure: {e}")

    torch.manual_seed(args.seed)
    x = torch.randn(1, cfg["in_chans"], *cfg["image_size"])
    err = check_bundle(model, args.out_dir, x, tol=1e-3)
    if args.reference:
        torch.manual_seed(args.seed + 1)
        pixels = torch.randn(args.reference, cfg["in_chans"], *cfg["image_size"])
        with torch.no_grad():
            logits = model(pixels)
        write_safetensors(os.path.join(args.out_dir, "reference.safetensors"),
                          {"pixel_values": pixels, "logits": logits.float()})
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out_dir}: {cfg['source']} {cfg['image_size'][0]}x{cfg['image_size'][1]} "
          f"D={cfg['embed_dim']} L={cfg['depth']} heads={cfg['num_heads']} classes={cfg['num_classes']} "
          f"params={n_params / 1e6:.2f}M {'fp16' if args.fp16 else 'fp32'}; "
          f"reference check rel err {err:.2e}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Generate the small random-weight ViT test fixtures used by the Swift tests.

  python tools/make_fixtures.py [--out Tests/Fixtures/vit]

Each case directory holds a bundle (config.json, model.safetensors) plus
inputs.safetensors (`pixel_values` [B,3,H,W] float32) and expected.safetensors
(`logits`, `pre_logits`, float32).  Expected outputs are computed by timm in
float64 (from the exact stored weights) and rounded to float32.
Everything is seeded, so re-running reproduces identical files.
"""

import argparse
import copy
import os
import sys

import torch
import torch.nn as nn

from onboard_bundle import (check_bundle, rel_err, round_params_to_fp16, timm_forward,
                            write_bundle, write_safetensors, write_text)

BASE = dict(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, mlp_ratio=4.0, num_classes=10)

# name -> (description, VisionTransformer kwargs, options)
CASES = {
    "cls_token": (
        "class token, token pool, GELU (erf), patch 8, 32x32, 2 heads",
        {}, {}),
    "avg_fc_norm_nonsquare": (
        "no class token, avg pool + fc_norm (no final norm), 24x40 image (3x5 grid), 3 heads of 16",
        dict(img_size=(24, 40), embed_dim=48, num_heads=3, mlp_ratio=2.0, num_classes=7,
             class_token=False, global_pool="avg"), {}),
    "deit_distilled": (
        "DeiT distilled: cls + dist tokens, logits = (head(x0) + head_dist(x1)) / 2, batch 3",
        {}, dict(distilled=True, batch=3)),
    "reg_layer_scale_gelu_tanh": (
        "class token + 2 reg tokens, no_embed_class, layer scale, GELU tanh, 4 heads of 12",
        dict(embed_dim=48, num_heads=4, mlp_ratio=2.0, num_classes=5, reg_tokens=2,
             no_embed_class=True, init_values=1e-5, act_layer="gelu_tanh"), {}),
    "reg_gap": (
        "no class token, 1 reg token, no_embed_class, avg pool with final norm (fc_norm off), layer scale",
        dict(class_token=False, reg_tokens=1, no_embed_class=True, global_pool="avg", fc_norm=False,
             init_values=1e-5, num_classes=4), {}),
    "pre_norm_no_qkv_bias": (
        "CLIP-style pre_norm (no patch-embed bias), qkv without bias, LayerNorm eps 1e-5 "
        "(embeddings scaled down so norm_pre's eps matters), depth 3, patch 4, 16x16, 2 heads of 24",
        dict(img_size=16, patch_size=4, embed_dim=48, depth=3, mlp_ratio=2.0, num_classes=6,
             pre_norm=True, qkv_bias=False, norm_layer=nn.LayerNorm), dict(embed_scale=0.01)),
    "fp16_weights": (
        "weights stored as float16; expected computed from the fp16 weights upcast to fp32",
        dict(embed_dim=64, num_heads=4, mlp_ratio=2.0), dict(fp16=True)),
    "no_head": (
        "num_classes 0: logits are the pooled features (= pre_logits), batch 1",
        dict(num_classes=0), dict(batch=1)),
}


def randomize(model: nn.Module, gen: torch.Generator) -> None:
    """Re-init every parameter with non-trivial values (timm zero-inits some)."""
    ln_weights = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = 0.2 * torch.randn(p.shape, generator=gen)
            if name in ln_weights:
                p.copy_(1.0 + noise)
            elif name.endswith(".gamma"):  # layer scale
                p.copy_(0.5 + noise)
            else:
                p.copy_(noise)


def make_case(out_dir: str, name: str, seed: int) -> str:
    from timm.models.deit import VisionTransformerDistilled
    from timm.models.vision_transformer import VisionTransformer

    desc, kwargs, opts = CASES[name]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cls = VisionTransformerDistilled if opts.get("distilled") else VisionTransformer
    model = cls(**{**BASE, **kwargs}).eval()
    randomize(model, gen)
    if "embed_scale" in opts:  # token variance ~ eps, so a wrong eps shows up
        with torch.no_grad():
            for p in ("patch_embed.proj.weight", "pos_embed", "cls_token"):
                model.get_parameter(p).mul_(opts["embed_scale"])
    if opts.get("fp16"):
        round_params_to_fp16(model)

    case_dir = os.path.join(out_dir, name)
    cfg = write_bundle(model, case_dir, f"timm:{cls.__name__}", fp16=opts.get("fp16", False))
    x = torch.randn(opts.get("batch", 2), cfg["in_chans"], *cfg["image_size"], generator=gen)

    logits, pre = timm_forward(copy.deepcopy(model).double(), x.double())
    logits, pre = logits.float(), pre.float()
    # Sanity: fp32 timm and the bundle-only reference both agree with the float64 result.
    err32 = max(rel_err(a, b) for a, b in zip(timm_forward(model, x), (logits, pre)))
    err_ref = check_bundle(model, case_dir, x)
    if err32 > 1e-4:
        raise RuntimeError(f"{name}: fp32 vs fp64 rel err {err32:.3g}")

    write_safetensors(os.path.join(case_dir, "inputs.safetensors"), {"pixel_values": x})
    write_safetensors(os.path.join(case_dir, "expected.safetensors"), {"logits": logits, "pre_logits": pre})
    size = sum(os.path.getsize(os.path.join(case_dir, f)) for f in os.listdir(case_dir))
    print(f"{name:28s} logits {tuple(logits.shape)} max|logits| {logits.abs().max():7.3f} "
          f"fp32 err {err32:.1e} ref err {err_ref:.1e} {size / 1024:6.1f} KiB")
    return f"| `{name}` | {desc} | {size / 1024:.0f} KiB |"


README = """# ViT test fixtures

Small random-weight timm ViTs used by the Swift tests. Generated by
`tools/make_fixtures.py` (see `tools/README.md` for the Python venv):

    /work/venv/bin/python tools/make_fixtures.py --out Tests/Fixtures/vit

Each case directory holds:

- `config.json`, `model.safetensors` — an Onboard bundle (timm state_dict names);
- `inputs.safetensors` — `pixel_values` [B, 3, H, W] float32 (standard normal);
- `expected.safetensors` — `logits` [B, num_classes] (or [B, embed_dim] when
  num_classes is 0) and `pre_logits` [B, embed_dim] (`forward_features` then
  `forward_head(pre_logits=True)`), float32.

Models are built directly from `timm.models.vision_transformer.VisionTransformer`
(or `timm.models.deit.VisionTransformerDistilled`) with seeded random weights:
every parameter is re-drawn as N(0, 0.2²), LayerNorm weights as 1 + N(0, 0.2²)
and layer-scale gammas as 0.5 + N(0, 0.2²), so positional embeddings, tokens
and biases are all non-trivial. Expected outputs are computed by timm in eval
mode in float64 from the stored weights, then rounded to float32; the script
also checks that timm in float32 and `onboard_bundle.reference_forward` (which
reads only the bundle) agree to < 1e-4 relative error (max abs error / max |output|).

The script is deterministic: re-running it reproduces the same files.

| case | what it covers | size |
|------|----------------|------|
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="Tests/Fixtures/vit", help="output directory (default Tests/Fixtures/vit)")
    ap.add_argument("--seed", type=int, default=1234, help="base seed; case i uses seed + i")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    rows = [make_case(args.out, name, args.seed + i) for i, name in enumerate(CASES)]
    write_text(os.path.join(args.out, "README.md"), README + "\n".join(rows) + "\n")


if __name__ == "__main__":
    sys.exit(main())

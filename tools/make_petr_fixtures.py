#!/usr/bin/env python3
"""Generate the small random-weight PETR head fixtures used by the Swift tests.

  /work/venv/bin/python tools/make_petr_fixtures.py [--out Tests/Fixtures/petr] [--case NAME ...]

Each case directory holds a PETR bundle (config.json, model.safetensors with official
`pts_bbox_head.*` names, plus `img_backbone.*` / `img_neck.*` for an images case),
`inputs.safetensors` (`features` [N, C, h, w] -- or `images` [N, 3, H, W] for a case with a
backbone -- and `lidar2img` [N, 4, 4], float32; lidar2img from a Sensors/ rig with the test-time
resize and bottom crop folded into K) and `reference.safetensors`, computed by
tools/petr_reference.py (backbone and neck: tools/make_backbone_fixtures.py) in float64 from the
stored float32 tensors and rounded to float32:

  coords3d [N, 3D, h, w]     inverse_sigmoid of the normalized frustum points
  pos_embed, memory [N*h*w, E]  position embedding (position_encoder + adapt_pos3d) and input_proj, tokens (cam, h, w)
  outs_dec [L, Q, E]         post-normed decoder outputs
  bbox_raw [L, Q, 10]        raw reg-branch outputs
  all_cls_scores [L, Q, C], all_bbox_preds [L, Q, 10]   as PETRHead.forward returns them
  boxes [K, 9], scores [K], labels [K] (i32), queries [K] (i32)   NMSFreeCoder + get_bboxes
  features [N, C, h, w]      (images cases) the backbone + neck output the head gets

Everything is seeded, so re-running reproduces identical files. `--case big256 --out DIR` writes
an extra case with the official embed 256 / 8 heads / FFN 2048 sizes (too large to commit;
`PETR_EXTRA_FIXTURES=DIR swift test ...` checks it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onboard_bundle import write_json, write_text  # noqa: E402
from petr_reference import HEAD, PETRReference, load_bundle, nms_free_decode, rig_lidar2img  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
NUSCENES_CLASSES = ["car", "truck", "construction_vehicle", "bus", "trailer", "barrier",
                    "motorcycle", "bicycle", "pedestrian", "traffic_cone"]

# The official PETR ranges and head defaults; each case overrides what it tests.
OFFICIAL_RANGES = {"position_range": [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0],
                   "pc_range": [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0],
                   "post_center_range": [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0]}


def head(**fields):
    return {**OFFICIAL_RANGES, "score_threshold": None, "layer_norm_eps": 1e-5, "pe": "petr", **fields}


# name -> (description, config, options)
CASES = {
    "tiny_lid": (
        "official layout at tiny sizes: 2 cameras (tiny-2cam rig), 32x64 input, features 16x4x8 (stride 8), "
        "embed 32, 2 heads, FFN 64, 2 layers, 20 queries, 10 classes, LID depth 8, 6 equal branch copies, "
        "code_weights, official ranges, max_num 50, no score threshold",
        {"num_cameras": 2, "image_size": [32, 64],
         "head": head(in_channels=16, embed_dims=32, num_heads=2, ffn_dims=64, num_layers=2, num_query=20,
                      num_classes=10, depth_num=8, depth_start=1.0, lid=True, max_num=50),
         "class_names": NUSCENES_CLASSES},
        dict(rig="tiny-2cam.json", feature_hw=(4, 8), copies=6, distinct_copies=False, code_weights=True, seed=11)),
    "uid_copies_filtered": (
        "UID depth 6 from 0.5 m, custom position/pc ranges, 2 cameras at 48x96 (features 24x6x12), embed 40, "
        "4 heads of 10, FFN 64, 3 layers, 16 queries, 4 classes; 3 DIFFERENT branch copies (the last is in effect), "
        "no code_weights; narrow post_center_range and score threshold 0.45 filter boxes out",
        {"num_cameras": 2, "image_size": [48, 96],
         "head": head(in_channels=24, embed_dims=40, num_heads=4, ffn_dims=64, num_layers=3, num_query=16,
                      num_classes=4, depth_num=6, depth_start=0.5, lid=False,
                      position_range=[-40.0, -40.0, -6.0, 40.0, 40.0, 6.0],
                      pc_range=[-30.0, -30.0, -4.0, 30.0, 30.0, 2.0], max_num=40,
                      post_center_range=[-20.0, -20.0, -3.0, 20.0, 20.0, 1.5],
                      score_threshold=0.45),
         "class_names": ["car", "pedestrian", "barrier", "bicycle"]},
        dict(rig="tiny-2cam.json", feature_hw=(6, 12), copies=3, distinct_copies=True, code_weights=False, seed=12)),
    "vit_cpfpn_images": (
        "images input through a backbone: 2 cameras, 32x64 images -> timm ViT feature backbone (patch 8, embed 32, "
        "depth 1, 2 heads) + single-level CPFPN [32]->16 (features 16x4x8); head embed 32, 4 heads, FFN 48, "
        "2 layers, 12 queries, 10 classes, LID depth 4, 2 equal branch copies, max_num 30",
        {"num_cameras": 2, "image_size": [32, 64],
         "backbone": {"type": "vit", "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2, "mlp_hidden_dim": 64,
                      "qkv_bias": True, "layer_norm_eps": 1e-6, "act": "gelu"},
         "neck": {"type": "cpfpn", "in_channels": [32], "out_channels": 16, "num_outs": 1},
         "head": head(in_channels=16, embed_dims=32, num_heads=4, ffn_dims=48, num_layers=2, num_query=12,
                      num_classes=10, depth_num=4, depth_start=1.0, lid=True, max_num=30),
         "class_names": NUSCENES_CLASSES},
        dict(rig="tiny-2cam.json", feature_hw=(4, 8), copies=2, distinct_copies=False, code_weights=True, seed=14)),
    # Not committed (about 80 MB): the official sizes.
    "big256": (
        "official sizes: embed 256, 8 heads, FFN 2048, 6 layers, 900 queries, depth 64; 6 cameras (nuscenes-6cam rig) "
        "at 320x800, features 256x20x50",
        {"num_cameras": 6, "image_size": [320, 800],
         "head": head(in_channels=256, embed_dims=256, num_heads=8, ffn_dims=2048, num_layers=6,
                      num_query=900, num_classes=10, depth_num=64, depth_start=1.0,
                      lid=True, max_num=300),
         "class_names": NUSCENES_CLASSES},
        dict(rig="nuscenes-6cam.json", feature_hw=(20, 50), copies=6, distinct_copies=False, code_weights=True,
             seed=13, extra=True)),
}


def full_config(cfg: dict) -> dict:
    return {"architecture": "petr", "num_cameras": cfg["num_cameras"], "image_size": cfg["image_size"],
            "backbone": cfg.get("backbone"), "neck": cfg.get("neck"), "head": cfg["head"], "class_names": cfg["class_names"]}


def image_model(config: dict, gen: torch.Generator):
    """Backbone and neck of an images case, from tools/make_backbone_fixtures.py (the backbone
    helper's PyTorch mirrors), with its seeded random initialisation."""
    import make_backbone_fixtures as mb
    backbone = mb.build_backbone(config["backbone"], config["image_size"]).eval()
    mb.randomize(backbone, gen)
    neck = None
    if config["neck"] is not None:
        n = config["neck"]
        neck = mb.CPFPN(n["in_channels"], n["out_channels"], n["num_outs"]).eval()
        mb.randomize(neck, gen)
    tensors = {f"img_backbone.{k}": v for k, v in mb.official_state(backbone).items()}
    if neck is not None:
        tensors.update({f"img_neck.{k}": v for k, v in neck.state_dict().items()})
    tensors = {k: v.detach().float().clone().contiguous() for k, v in tensors.items() if not k.endswith("num_batches_tracked")}

    def features(images: torch.Tensor) -> torch.Tensor:
        levels = backbone.double()(images)
        return neck.double()(levels)[0] if neck is not None else levels[0]
    return tensors, features


def random_state(model: PETRReference, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Non-trivial values for every tensor: weights ~ N(0, 1/fan_in), biases ~ N(0, 0.1^2), LayerNorm
    weights around 1, reference points uniform in [0, 1] (the official init)."""
    ln = {f"{n}.weight" for n, m in model.named_modules(remove_duplicate=False) if isinstance(m, torch.nn.LayerNorm)}
    state = {}
    for name, t in model.state_dict().items():
        if name.endswith("reference_points.weight"):
            v = torch.rand(t.shape, generator=gen)
        elif name.endswith("code_weights"):
            v = t.clone()
        elif name in ln:
            v = 1.0 + 0.2 * torch.randn(t.shape, generator=gen)
        elif t.dim() >= 2:
            fan_in = t[0].numel()
            v = torch.randn(t.shape, generator=gen) / fan_in ** 0.5
        else:
            v = 0.1 * torch.randn(t.shape, generator=gen)
        state[name] = v.float().contiguous()
    return state


def make_case(out_dir: str, name: str) -> dict:
    desc, cfg, opts = CASES[name]
    config = full_config(cfg)
    head = cfg["head"]
    gen = torch.Generator().manual_seed(opts["seed"])
    model = PETRReference(config, branch_copies=opts["copies"])
    state = random_state(model, gen)
    copies = opts["copies"]
    # Shared branch module: every copy holds the same tensors, unless the case asks for distinct ones.
    for branch in ("cls_branches", "reg_branches"):
        last = {k: v for k, v in state.items() if k.startswith(f"{HEAD}{branch}.{copies - 1}.")}
        for c in range(copies - 1):
            for k, v in last.items():
                key = k.replace(f"{branch}.{copies - 1}.", f"{branch}.{c}.")
                state[key] = (torch.randn(v.shape, generator=gen) * v.std() + 0.05) if opts["distinct_copies"] else v.clone()
    if not opts["code_weights"]:
        state.pop(f"{HEAD}code_weights")

    n = cfg["num_cameras"]
    fh, fw = opts["feature_hw"]
    with open(os.path.join(ROOT, "Sensors", opts["rig"])) as f:
        lidar2img = torch.from_numpy(rig_lidar2img(json.load(f), cfg["image_size"])).float()
    if config["backbone"] is not None:
        backbone_tensors, backbone = image_model(config, gen)
        state.update(backbone_tensors)
        image = torch.randn(n, 3, *cfg["image_size"], generator=gen).float()
        inputs = {"images": image}
    else:
        image = torch.randn(n, head["in_channels"], fh, fw, generator=gen).float()
        inputs = {"features": image}

    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "config.json"), config)
    save_file(state, os.path.join(out_dir, "model.safetensors"))
    save_file({**inputs, "lidar2img": lidar2img.contiguous()}, os.path.join(out_dir, "inputs.safetensors"))

    # The reference comes from the written files alone (the backbone from the modules that wrote them).
    _, ref = load_bundle(out_dir, dtype=torch.float64)
    with torch.no_grad():
        features = backbone(image.double()) if config["backbone"] is not None else image.double()
        assert tuple(features.shape[2:]) == (fh, fw), features.shape
        out = ref(features, lidar2img.double().numpy())
        decoded = nms_free_decode(out["all_cls_scores"][-1], out["all_bbox_preds"][-1], ref.pts_bbox_head.h)
    tensors = {k: out[k].float().contiguous() for k in
               ("coords3d", "pos_embed", "memory", "outs_dec", "bbox_raw", "all_cls_scores", "all_bbox_preds")}
    tensors["boxes"] = decoded["boxes"].float().contiguous()
    tensors["scores"] = decoded["scores"].float().contiguous()
    tensors["labels"] = decoded["labels"].to(torch.int32).contiguous()
    tensors["queries"] = decoded["queries"].to(torch.int32).contiguous()
    if config["backbone"] is not None:
        tensors["features"] = features.float().contiguous()
    save_file(tensors, os.path.join(out_dir, "reference.safetensors"))

    coords = out["coords3d"]  # [N, D*3, h, w]; a point is inside the range when no axis saturates
    axes = coords.reshape(coords.shape[0], -1, 3, *coords.shape[2:])
    inside = ((axes > -11.51) & (axes < 11.51)).all(dim=2).double().mean().item()
    return {"name": name, "description": desc, "boxes": int(decoded["boxes"].shape[0]),
            "inside_fraction": inside, "bytes": sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "petr"))
    parser.add_argument("--case", action="append", help="cases to write (default: every committed case)")
    args = parser.parse_args()
    names = args.case or [k for k, v in CASES.items() if not v[2].get("extra")]
    torch.set_num_threads(1)
    rows = []
    for name in names:
        if name not in CASES:
            parser.error(f"unknown case {name}; known: {', '.join(CASES)}")
        info = make_case(os.path.join(args.out, name), name)
        rows.append(info)
        print(f"{name}: {info['boxes']} boxes, {100 * info['inside_fraction']:.0f}% of frustum points inside position_range, "
              f"{info['bytes']} bytes")
    if not args.case:
        lines = ["# PETR head fixtures", "",
                 "Written by `tools/make_petr_fixtures.py` (seeded; re-running reproduces the files) from",
                 "`tools/petr_reference.py`, a PyTorch mirror of the official PETRHead + NMSFreeCoder computed in",
                 "float64 and rounded to float32. Checked by `Tests/OnboardModelsTests/PETRFixtureTests.swift`.", "",
                 "| case | what it covers | boxes | frustum points inside position_range |", "|---|---|---|---|"]
        for r in rows:
            lines.append(f"| `{r['name']}` | {r['description']} | {r['boxes']} | {100 * r['inside_fraction']:.0f}% |")
        lines += ["", "Files: `config.json`, `model.safetensors` (bundle), `inputs.safetensors` (`features` or `images`,",
                  "`lidar2img`), `reference.safetensors` (`coords3d`, `pos_embed`, `memory`, `outs_dec`, `bbox_raw`,",
                  "`all_cls_scores`, `all_bbox_preds`, `boxes`, `scores`, `labels` i32, `queries` i32; `features` for",
                  "images cases). The images case's backbone and neck come from `tools/make_backbone_fixtures.py`."]
        write_text(os.path.join(args.out, "README.md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

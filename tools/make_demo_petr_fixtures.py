#!/usr/bin/env python3
"""Fixtures for the demo PETR architecture as trained by tools/train_demo_petr.py: small random-weight
bundles (ViT backbone + PETR head, with the official 3D position embedding and with Q-PETR's QFPE;
a Vision Mamba backbone with QFPE)
run by the training code itself, so the Swift graph is checked against the model that is trained.

  python tools/make_demo_petr_fixtures.py --out Tests/Fixtures/demo-petr
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_petr.model import DemoPETR, petr_coords3d, qfpe_weights  # noqa: E402
from demo_petr.nuscenes_set import quaternion_matrix  # noqa: E402
from demo_petr.predict import decode  # noqa: E402
from demo_petr.vim import vim_backbone_config  # noqa: E402
from train_demo_petr import demo_config  # noqa: E402


def rig_lidar2img(rig_path, source_hw, final_hw):
    with open(rig_path) as f:
        rig = json.load(f)

    def pose(r, t):
        m = np.eye(4)
        m[:3, :3] = quaternion_matrix(r)
        m[:3, 3] = t
        return m

    lidar_to_ego = pose(rig["lidar"]["rotation"], rig["lidar"]["translation"])
    scale = max(final_hw[0] / source_hw[0], final_hw[1] / source_hw[1])
    resized = (int(source_hw[1] * scale), int(source_hw[0] * scale))
    ida = np.eye(4)
    ida[0, 0] = ida[1, 1] = scale
    ida[0, 2] = -((resized[0] - final_hw[1]) // 2)
    ida[1, 2] = -(resized[1] - final_hw[0])
    out = []
    for cam in rig["cameras"]:
        k = np.eye(4)
        k[:3, :3] = np.array(cam["intrinsic"])
        cam_to_ego = pose(cam["rotation"], cam["translation"])
        out.append(ida @ k @ np.linalg.inv(cam_to_ego) @ lidar_to_ego)
    return np.stack(out).astype(np.float32)


def tiny_config(pe, backbone="vit"):
    c = demo_config(pe, "coarse", backbone)  # the committed fixtures' anchors
    c["image_size"] = [48, 96]
    if backbone == "vim":
        c["backbone"] = vim_backbone_config(embed_dim=32, depth=2)
    else:
        c["backbone"].update({"embed_dim": 32, "depth": 1, "num_heads": 2, "mlp_hidden_dim": 64})
    c["head"].update({"in_channels": 32, "embed_dims": 32, "num_heads": 2, "ffn_dims": 64, "num_layers": 2,
                      "num_query": 20, "depth_num": 8, "max_num": 30})
    return c


def write_case(out_dir, pe, seed, rig, backbone="vit"):
    torch.manual_seed(seed)
    config = tiny_config(pe, backbone)
    model = DemoPETR(config).eval()
    with torch.no_grad():
        for p in model.parameters():  # spread weights so every part matters
            p.add_(torch.randn_like(p) * 0.05)
            p.copy_(p.half().float())  # stored as f16: the reference uses exactly the stored values
    h = config["head"]
    lidar2img = torch.from_numpy(rig_lidar2img(rig, config["preprocess"]["source_size"], config["image_size"]))
    images = torch.randn(1, 6, 3, *config["image_size"]).half().float()
    with torch.no_grad():
        cls, boxes, _ = model(images, lidar2img[None])
        feats = model.img_backbone(images[0])
        grid = feats.shape[-2:]
        coords = (qfpe_weights if pe == "qfpe" else petr_coords3d)(h, grid, tuple(config["image_size"]), lidar2img[None])
        pos = model.pts_bbox_head.position_embedding(feats, lidar2img[None], tuple(config["image_size"]))
        b, s, l, q = decode(cls[-1, 0], boxes[-1, 0], h["max_num"], h["post_center_range"], h["score_threshold"])
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    save_file({k: v.half().contiguous() for k, v in model.export_state_dict().items()}, os.path.join(out_dir, "model.safetensors"))
    save_file({"images": images[0].half().contiguous(), "lidar2img": lidar2img.contiguous()}, os.path.join(out_dir, "inputs.safetensors"))
    e = h["embed_dims"]
    save_file({
        "coords3d": coords.contiguous(),
        "pos_embed": pos[0].permute(0, 2, 3, 1).reshape(-1, e).contiguous(),
        "all_cls_scores": cls[:, 0].contiguous(), "all_bbox_preds": boxes[:, 0].contiguous(),
        "memory": model.pts_bbox_head.input_proj(feats).permute(0, 2, 3, 1).reshape(-1, e).contiguous(),
        "boxes": b.contiguous(), "scores": s.contiguous(), "labels": l.to(torch.int32).contiguous(),
        "queries": q.to(torch.int32).contiguous(),
    }, os.path.join(out_dir, "reference.safetensors"))
    print(f"{out_dir}: {sum(os.path.getsize(os.path.join(out_dir, n)) for n in os.listdir(out_dir)) / 1024:.0f} KiB")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="Tests/Fixtures/demo-petr")
    p.add_argument("--rig", default="Sensors/demo-6cam.json")
    args = p.parse_args()
    write_case(os.path.join(args.out, "petr"), "petr", 1, args.rig)
    write_case(os.path.join(args.out, "qfpe"), "qfpe", 2, args.rig)
    write_case(os.path.join(args.out, "vim_qfpe"), "qfpe", 3, args.rig, backbone="vim")


if __name__ == "__main__":
    main()

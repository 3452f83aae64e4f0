#!/usr/bin/env python3
"""A PyTorch mirror of the official PETR head (megvii-research/PETR @ f7525f9, mmdet3d 0.17.1):
`PETRHead.forward` + `position_embeding`, `SinePositionalEncoding3D`, `pos2posemb3d`,
`PETRTransformer` / `PETRTransformerDecoder(return_intermediate=True)` with
`PETRTransformerDecoderLayer` (self_attn, norm, cross_attn, norm, ffn, norm), `NMSFreeCoder`
and `PETRHead.get_bboxes` -- written from reading that code, without mmcv/mmdet.

It is parametrised by an Onboard PETR bundle's `config.json` (see /work/petr-design.md): the
sizes the official code hard-codes are derived from `head.embed_dims` so that 256 reproduces them.
Module names equal the official state-dict names (under `pts_bbox_head.`), so
`PETRReference(config).state_dict()` is an official-style checkpoint and a bundle's
`model.safetensors` loads into it unchanged.

Only the head is mirrored: the tests feed it the feature map (`features` [N, C, h, w]) and
`lidar2img` [N, 4, 4] of one sample (batch 1, the padded image equals the image, so the
official padding mask is all zero and `key_padding_mask` has no effect).

Used by tools/make_petr_fixtures.py and tools/export_petr.py; run it to self-check:

    /work/venv/bin/python tools/petr_reference.py
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file

HEAD = "pts_bbox_head."
CODE_SIZE = 10
# The official PETRHead hard-codes num_pred = 6 branch copies whatever the number of layers.
OFFICIAL_BRANCH_COPIES = 6


# ----------------------------------------------------------------------------
# Config


def head_defaults(head: dict) -> dict:
    """The head section with the defaults the Swift PETRConfig applies."""
    h = dict(head)
    h.setdefault("depth_start", 1.0)
    h.setdefault("lid", True)
    h.setdefault("position_range", [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0])
    h.setdefault("pc_range", [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0])
    h.setdefault("max_num", 300)
    h.setdefault("post_center_range", list(h["position_range"]))
    h.setdefault("score_threshold", None)
    h.setdefault("layer_norm_eps", 1e-5)
    h.setdefault("pe", "petr")
    return h


def load_config(bundle_dir: str) -> dict:
    with open(os.path.join(bundle_dir, "config.json")) as f:
        config = json.load(f)
    if config.get("architecture") != "petr":
        raise ValueError(f"{bundle_dir}: not a PETR bundle")
    config["head"] = head_defaults(config["head"])
    return config


# ----------------------------------------------------------------------------
# Pieces of the official code, re-derived


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """mmdet's inverse_sigmoid: clamp to [0, 1], then log(x / (1 - x)) with both clamped at eps."""
    x = x.clamp(min=0, max=1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


def depth_bins(head: dict, dtype=torch.float64) -> torch.Tensor:
    """Depths of the frustum points: LID (bins growing linearly) or UID (uniform); the far end is
    position_range[3], as in the official code."""
    d = head["depth_num"]
    start, far = float(head["depth_start"]), float(head["position_range"][3])
    k = torch.arange(d, dtype=dtype)
    if head["lid"]:
        return start + (far - start) / (d * (1 + d)) * k * (k + 1)
    return start + (far - start) / d * k


def coords3d(head: dict, image_size, feature_hw, lidar2img: np.ndarray, dtype=torch.float64) -> torch.Tensor:
    """`position_embeding` up to the inverse sigmoid: [N, depth_num * 3, h, w], channel d * 3 + axis."""
    pad_h, pad_w = image_size
    h, w = feature_hw
    eps = 1e-5
    u = torch.arange(w, dtype=dtype) * pad_w / w          # cell corners, no +0.5
    v = torch.arange(h, dtype=dtype) * pad_h / h
    d = depth_bins(head, dtype)
    uu, vv, dd = torch.meshgrid(u, v, d, indexing="ij")     # [w, h, D]
    dc = torch.clamp(dd, min=eps)
    points = torch.stack([uu * dc, vv * dc, dd, torch.ones_like(dd)], -1)  # [w, h, D, 4]
    img2lidar = torch.as_tensor(np.linalg.inv(np.asarray(lidar2img, dtype=np.float64)), dtype=dtype)  # [N, 4, 4]
    xyz = torch.einsum("nij,whdj->nwhdi", img2lidar, points)[..., :3]  # [N, w, h, D, 3]
    pr = head["position_range"]
    lo = torch.tensor(pr[:3], dtype=dtype)
    hi = torch.tensor(pr[3:], dtype=dtype)
    xyz = (xyz - lo) / (hi - lo)
    n = xyz.shape[0]
    # (N, W, H, D, 3) -> (N, D, 3, H, W): channel = depth * 3 + axis.
    xyz = xyz.permute(0, 3, 4, 2, 1).reshape(n, -1, h, w)
    return inverse_sigmoid(xyz)


def dim_t(num_feats: int, temperature: float = 10000.0, dtype=torch.float64) -> torch.Tensor:
    k = torch.arange(num_feats, dtype=dtype)
    return temperature ** (2 * torch.div(k, 2, rounding_mode="floor") / num_feats)


def sine_encoding_3d(num_cams: int, h: int, w: int, num_feats: int, dtype=torch.float64) -> torch.Tensor:
    """SinePositionalEncoding3D(normalize=True) of the all-zero (camera, row, column) mask:
    [N, 3 * num_feats, h, w]; per axis all sines (even k) then all cosines (odd k); axes n, y, x."""
    scale, eps = 2 * math.pi, 1e-6
    ones = torch.ones(1, num_cams, h, w, dtype=dtype)
    n_embed = ones.cumsum(1)
    y_embed = ones.cumsum(2)
    x_embed = ones.cumsum(3)
    n_embed = n_embed / (n_embed[:, -1:] + eps) * scale
    y_embed = y_embed / (y_embed[:, :, -1:] + eps) * scale
    x_embed = x_embed / (x_embed[:, :, :, -1:] + eps) * scale
    t = dim_t(num_feats, dtype=dtype)

    def encode(e):
        p = e[..., None] / t
        return torch.cat([p[..., 0::2].sin(), p[..., 1::2].cos()], dim=-1)  # sines, then cosines

    pos = torch.cat([encode(n_embed), encode(y_embed), encode(x_embed)], dim=-1)  # [1, N, h, w, 3F]
    return pos[0].permute(0, 3, 1, 2).contiguous()


def pos2posemb3d(pos: torch.Tensor, num_feats: int) -> torch.Tensor:
    """Query position embedding: sin/cos interleaved per axis, axes in (y, x, z) order: [Q, 3F]."""
    pos = pos * (2 * math.pi)
    t = dim_t(num_feats, dtype=pos.dtype)

    def encode(c):
        p = c[..., None] / t
        return torch.stack([p[..., 0::2].sin(), p[..., 1::2].cos()], dim=-1).flatten(-2)

    return torch.cat([encode(pos[..., 1]), encode(pos[..., 0]), encode(pos[..., 2])], dim=-1)


# ----------------------------------------------------------------------------
# Modules (names = official state-dict names)


class Attention(nn.Module):
    """mmcv MultiheadAttention / PETRMultiheadAttention: positions added to query and key only,
    torch.nn.MultiheadAttention inside, residual (the un-positioned query) inside."""

    def __init__(self, embed: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed, heads, dropout=0.0)

    def forward(self, query, key, value, query_pos, key_pos):
        out = self.attn(query + query_pos, key + key_pos, value, need_weights=False)[0]
        return query + out


class FFN(nn.Module):
    """mmcv FFN (2 fcs, ReLU, identity added)."""

    def __init__(self, embed: int, hidden: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Sequential(nn.Linear(embed, hidden), nn.ReLU(), nn.Dropout(0.0)),
                                    nn.Linear(hidden, embed), nn.Dropout(0.0))

    def forward(self, x):
        return x + self.layers(x)


class DecoderLayer(nn.Module):
    """operation_order = (self_attn, norm, cross_attn, norm, ffn, norm)."""

    def __init__(self, embed: int, heads: int, hidden: int, eps: float):
        super().__init__()
        self.attentions = nn.ModuleList([Attention(embed, heads), Attention(embed, heads)])
        self.ffns = nn.ModuleList([FFN(embed, hidden)])
        self.norms = nn.ModuleList([nn.LayerNorm(embed, eps=eps) for _ in range(3)])

    def forward(self, query, memory, memory_pos, query_pos):
        query = self.norms[0](self.attentions[0](query, query, query, query_pos, query_pos))
        query = self.norms[1](self.attentions[1](query, memory, memory, query_pos, memory_pos))
        return self.norms[2](self.ffns[0](query))


class Decoder(nn.Module):
    def __init__(self, h: dict):
        super().__init__()
        e = h["embed_dims"]
        self.layers = nn.ModuleList([DecoderLayer(e, h["num_heads"], h["ffn_dims"], h["layer_norm_eps"])
                                     for _ in range(h["num_layers"])])
        self.post_norm = nn.LayerNorm(e, eps=h["layer_norm_eps"])

    def forward(self, query, memory, memory_pos, query_pos):
        intermediate = []
        for layer in self.layers:
            query = layer(query, memory, memory_pos, query_pos)
            intermediate.append(self.post_norm(query))  # normed for the branches; un-normed goes on
        return torch.stack(intermediate)


class Transformer(nn.Module):
    def __init__(self, h: dict):
        super().__init__()
        self.decoder = Decoder(h)

    def forward(self, x, query_embed, pos_embed):
        """x, pos_embed: [N, C, h, w] of one sample; query_embed [Q, C] -> [L, Q, C]."""
        c = x.shape[1]
        memory = x.permute(0, 2, 3, 1).reshape(-1, 1, c)         # (cam, h, w) order, batch 1
        pos = pos_embed.permute(0, 2, 3, 1).reshape(-1, 1, c)
        query_pos = query_embed[:, None, :]
        target = torch.zeros_like(query_pos)
        return self.decoder(target, memory, pos, query_pos)[:, :, 0, :]


class PETRHeadRef(nn.Module):
    def __init__(self, config: dict, branch_copies: int = OFFICIAL_BRANCH_COPIES):
        super().__init__()
        h = head_defaults(config["head"])
        self.h = h
        self.config = config
        e, c = h["embed_dims"], h["in_channels"]
        eps = h["layer_norm_eps"]
        self.input_proj = nn.Conv2d(c, e, kernel_size=1)
        fc_cls = nn.Sequential(nn.Linear(e, e), nn.LayerNorm(e, eps=eps), nn.ReLU(),
                               nn.Linear(e, e), nn.LayerNorm(e, eps=eps), nn.ReLU(),
                               nn.Linear(e, h["num_classes"]))
        fc_reg = nn.Sequential(nn.Linear(e, e), nn.ReLU(), nn.Linear(e, e), nn.ReLU(), nn.Linear(e, CODE_SIZE))
        # One module object repeated: a state_dict holds every copy, loading leaves the last in effect.
        self.cls_branches = nn.ModuleList([fc_cls for _ in range(branch_copies)])
        self.reg_branches = nn.ModuleList([fc_reg for _ in range(branch_copies)])
        self.adapt_pos3d = nn.Sequential(nn.Conv2d(e * 3 // 2, e * 4, 1), nn.ReLU(), nn.Conv2d(e * 4, e, 1))
        self.position_encoder = nn.Sequential(nn.Conv2d(3 * h["depth_num"], e * 4, 1), nn.ReLU(), nn.Conv2d(e * 4, e, 1))
        self.reference_points = nn.Embedding(h["num_query"], 3)
        self.query_embedding = nn.Sequential(nn.Linear(e * 3 // 2, e), nn.ReLU(), nn.Linear(e, e))
        self.transformer = Transformer(h)
        self.code_weights = nn.Parameter(torch.tensor([1.0] * 8 + [0.2, 0.2]), requires_grad=False)

    def forward(self, features: torch.Tensor, lidar2img: np.ndarray) -> dict:
        """features [N, C, h, w] of one sample; lidar2img [N, 4, 4] (numpy, float64 inverse)."""
        h = self.h
        e = h["embed_dims"]
        dtype = features.dtype
        n, _, fh, fw = features.shape
        x = self.input_proj(features)
        coords = coords3d(h, self.config["image_size"], (fh, fw), lidar2img, dtype=dtype)
        coords_pe = self.position_encoder(coords)
        sine = sine_encoding_3d(n, fh, fw, e // 2, dtype=dtype)
        pos_embed = coords_pe + self.adapt_pos3d(sine)
        reference = self.reference_points.weight
        query_embed = self.query_embedding(pos2posemb3d(reference, e // 2))
        outs_dec = torch.nan_to_num(self.transformer(x, query_embed, pos_embed))  # [L, Q, E]
        ref_logit = inverse_sigmoid(reference.clone())
        classes, coords_out, raws = [], [], []
        for lvl in range(outs_dec.shape[0]):
            classes.append(self.cls_branches[lvl](outs_dec[lvl]))
            raw = self.reg_branches[lvl](outs_dec[lvl])
            raws.append(raw)
            tmp = raw.clone()
            tmp[..., 0:2] = (tmp[..., 0:2] + ref_logit[..., 0:2]).sigmoid()
            tmp[..., 4:5] = (tmp[..., 4:5] + ref_logit[..., 2:3]).sigmoid()
            coords_out.append(tmp)
        all_cls_scores = torch.stack(classes)
        all_bbox_preds = torch.stack(coords_out)
        pc = h["pc_range"]
        all_bbox_preds[..., 0:1] = all_bbox_preds[..., 0:1] * (pc[3] - pc[0]) + pc[0]
        all_bbox_preds[..., 1:2] = all_bbox_preds[..., 1:2] * (pc[4] - pc[1]) + pc[1]
        all_bbox_preds[..., 4:5] = all_bbox_preds[..., 4:5] * (pc[5] - pc[2]) + pc[2]
        return {
            "coords3d": coords,
            "pos_embed": pos_embed.permute(0, 2, 3, 1).reshape(-1, e),   # tokens (cam, h, w)
            "memory": x.permute(0, 2, 3, 1).reshape(-1, e),
            "outs_dec": outs_dec,
            "bbox_raw": torch.stack(raws),
            "all_cls_scores": all_cls_scores,
            "all_bbox_preds": all_bbox_preds,
        }


class PETRReference(nn.Module):
    """Holds the head as `pts_bbox_head` so state-dict names carry the official prefix."""

    def __init__(self, config: dict, branch_copies: int = OFFICIAL_BRANCH_COPIES):
        super().__init__()
        self.pts_bbox_head = PETRHeadRef(config, branch_copies)

    def forward(self, features, lidar2img):
        return self.pts_bbox_head(features, lidar2img)


# ----------------------------------------------------------------------------
# NMSFreeCoder + get_bboxes


def nms_free_decode(cls_scores: torch.Tensor, bbox_preds: torch.Tensor, head: dict) -> dict:
    """NMSFreeCoder.decode_single on the last layer's [Q, C] logits and [Q, 10] predictions, then
    get_bboxes' z_bottom = cz - h / 2. Rows: x, y, z_bottom, w, l, h, yaw, vx, vy."""
    num_classes = cls_scores.shape[-1]
    scores, indices = cls_scores.sigmoid().reshape(-1).topk(head["max_num"])
    labels = indices % num_classes
    queries = torch.div(indices, num_classes, rounding_mode="floor")
    p = bbox_preds[queries]
    boxes = torch.cat([p[:, 0:2], p[:, 4:5], p[:, 2:4].exp(), p[:, 5:6].exp(),
                       torch.atan2(p[:, 6:7], p[:, 7:8]), p[:, 8:10]], dim=-1)
    keep = torch.ones(len(boxes), dtype=torch.bool)
    if head["post_center_range"] is not None:
        r = torch.tensor(head["post_center_range"], dtype=boxes.dtype)
        keep &= (boxes[:, :3] >= r[:3]).all(1) & (boxes[:, :3] <= r[3:]).all(1)
    threshold = head["score_threshold"]
    if threshold:  # the official `if self.score_threshold:` (0 and None both disable it)
        keep &= scores > threshold
    boxes = boxes[keep].clone()
    boxes[:, 2] = boxes[:, 2] - boxes[:, 5] * 0.5
    return {"boxes": boxes, "scores": scores[keep], "labels": labels[keep], "queries": queries[keep]}


# ----------------------------------------------------------------------------
# Bundles


def load_bundle(bundle_dir: str, dtype=torch.float64) -> tuple[dict, PETRReference]:
    """The head of a bundle (backbone/neck tensors ignored), branch copies as stored."""
    config = load_config(bundle_dir)
    tensors = load_file(os.path.join(bundle_dir, "model.safetensors"))
    copies = 0
    while f"{HEAD}cls_branches.{copies}.0.weight" in tensors:
        copies += 1
    model = PETRReference(config, branch_copies=copies)
    head = {k: v for k, v in tensors.items() if k.startswith(HEAD)}
    if f"{HEAD}code_weights" not in head:
        head[f"{HEAD}code_weights"] = model.pts_bbox_head.code_weights.detach().clone()
    model.load_state_dict({k: v.float() for k, v in head.items()}, strict=True)
    return config, model.to(dtype).eval()


# ----------------------------------------------------------------------------
# Rigs: lidar2img as PETR builds it


def quat_matrix(q) -> np.ndarray:
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def rig_lidar2img(rig: dict, image_size) -> np.ndarray:
    """[N, 4, 4] lidar2img of a rig (cameras and lidar at one ego pose) for the network input
    `image_size` (H, W), with ResizeCropFlipImage's test-time resize and bottom crop folded into K."""
    net_h, net_w = image_size
    H, W = rig["image_height"], rig["image_width"]
    lidar = rig["lidar"]
    lidar2ego = np.eye(4)
    lidar2ego[:3, :3] = quat_matrix(lidar["rotation"])
    lidar2ego[:3, 3] = lidar["translation"]
    r = max(net_h / H, net_w / W)
    new_w, new_h = int(W * r), int(H * r)
    crop_h, crop_w = new_h - net_h, int(max(0, new_w - net_w) / 2)
    ida = np.array([[r, 0, -crop_w], [0, r, -crop_h], [0, 0, 1.0]])
    out = []
    for cam in rig["cameras"]:
        cam2ego = np.eye(4)
        cam2ego[:3, :3] = quat_matrix(cam["rotation"])
        cam2ego[:3, 3] = cam["translation"]
        lidar2cam = np.linalg.inv(cam2ego) @ lidar2ego
        k4 = np.eye(4)
        k4[:3, :3] = ida @ np.asarray(cam["intrinsic"], dtype=np.float64)
        out.append(k4 @ lidar2cam)
    return np.stack(out)


# ----------------------------------------------------------------------------
# Self-check of the mirror's invariants


def _self_check() -> None:
    torch.manual_seed(0)
    config = {"architecture": "petr", "num_cameras": 2, "image_size": [32, 64],
              "head": {"in_channels": 16, "embed_dims": 32, "num_heads": 2, "ffn_dims": 64, "num_layers": 2,
                       "num_query": 20, "num_classes": 10, "depth_num": 8, "max_num": 50}}
    model = PETRReference(config).double().eval()
    sd = model.state_dict()
    # Official layout: 6 copies of each branch, attentions.{0,1}.attn.in_proj_weight [3E, E], ...
    assert f"{HEAD}cls_branches.5.6.weight" in sd and f"{HEAD}reg_branches.5.4.weight" in sd
    assert sd[f"{HEAD}transformer.decoder.layers.1.attentions.1.attn.in_proj_weight"].shape == (96, 32)
    assert sd[f"{HEAD}transformer.decoder.layers.0.ffns.0.layers.0.0.weight"].shape == (64, 32)
    assert sd[f"{HEAD}position_encoder.0.weight"].shape == (128, 24, 1, 1)
    assert sd[f"{HEAD}adapt_pos3d.0.weight"].shape == (128, 48, 1, 1)
    assert sd[f"{HEAD}query_embedding.0.weight"].shape == (32, 48)
    # Embed 256 reproduces the official hard-coded sizes.
    big = dict(config, head=dict(config["head"], embed_dims=256, num_heads=8, depth_num=64, num_query=900))
    sd = PETRReference(big).state_dict()
    assert sd[f"{HEAD}adapt_pos3d.0.weight"].shape == (1024, 384, 1, 1)
    assert sd[f"{HEAD}position_encoder.0.weight"].shape == (1024, 192, 1, 1)
    assert sd[f"{HEAD}query_embedding.0.weight"].shape == (256, 384)
    # The two sin/cos layouts.
    s = sine_encoding_3d(2, 3, 4, 8)
    y = 2 / (3 + 1e-6) * 2 * math.pi  # row 1 of 3
    assert abs(s[0, 8 + 1, 1, 0] - math.sin(y / 10000 ** (2 / 8))) < 1e-12  # y-axis sines first
    assert abs(s[0, 8 + 4, 1, 0] - math.cos(y)) < 1e-12                     # then cosines
    p = pos2posemb3d(torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float64), 8)
    assert abs(p[0, 0] - math.sin(0.2 * 2 * math.pi)) < 1e-12 and abs(p[0, 1] - math.cos(0.2 * 2 * math.pi)) < 1e-12
    assert abs(p[0, 8] - math.sin(0.1 * 2 * math.pi)) < 1e-12
    # Depth bins: LID from 1 to about 59.35 m at D = 64.
    d = depth_bins({"depth_num": 64, "depth_start": 1, "lid": True, "position_range": [0, 0, 0, 61.2, 0, 0]})
    assert abs(d[0] - 1) < 1e-12 and abs(d[-1] - 59.35) < 0.01
    # A forward pass of the tiny head on the tiny rig.
    rig_path = os.path.join(os.path.dirname(__file__), "..", "Sensors", "tiny-2cam.json")
    with open(rig_path) as f:
        l2i = rig_lidar2img(json.load(f), config["image_size"])
    with torch.no_grad():
        out = model(torch.randn(2, 16, 4, 8, dtype=torch.float64), l2i)
    assert out["all_cls_scores"].shape == (2, 20, 10) and out["all_bbox_preds"].shape == (2, 20, 10)
    decoded = nms_free_decode(out["all_cls_scores"][-1], out["all_bbox_preds"][-1], model.pts_bbox_head.h)
    assert decoded["boxes"].shape[1] == 9
    print("petr_reference self-check passed")


if __name__ == "__main__":
    _self_check()

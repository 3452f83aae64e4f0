"""The demo PETR in PyTorch, with the official module names so that its state dict is a bundle.

ViT backbone (timm block semantics, no class token) or Vision Mamba (demo_petr/vim.py) -> PETR head (mmdet3d 0.17 semantics: 3D
position embedding from LID depth bins or Q-PETR's QFPE, 3D sine encoding through adapt_pos3d,
post-norm decoder, shared cls/reg branches). Training-only parts (query denoising, dense auxiliary
heads) sit outside the exported names.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def inverse_sigmoid(x, eps=1e-5):
    x = x.clamp(0, 1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden, eps):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=eps), nn.LayerNorm(dim, eps=eps)
        self.attn, self.mlp = Attention(dim, heads), Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)


class ViTBackbone(nn.Module):
    """timm ViT without class token; returns the final-norm tokens as a feature map [B, D, h, w]."""

    def __init__(self, cfg, image_hw):
        super().__init__()
        p, d = cfg["patch_size"], cfg["embed_dim"]
        self.grid = (image_hw[0] // p, image_hw[1] // p)
        self.patch_embed = PatchEmbed(p, d)
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid[0] * self.grid[1], d) * 0.02)
        eps = cfg["layer_norm_eps"]
        self.blocks = nn.ModuleList(Block(d, cfg["num_heads"], cfg["mlp_hidden_dim"], eps) for _ in range(cfg["depth"]))
        self.norm = nn.LayerNorm(d, eps=eps)

    def forward(self, images):
        x = self.patch_embed.proj(images).flatten(2).transpose(1, 2) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return x.transpose(1, 2).reshape(x.shape[0], -1, *self.grid)


class MultiheadAttention(nn.Module):
    """mmcv MultiheadAttention: positions on query and key only, residual inside."""

    def __init__(self, dim, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads)

    def forward(self, query, key, value, query_pos, key_pos, attn_mask=None):
        out = self.attn(query + query_pos, key + key_pos, value, attn_mask=attn_mask, need_weights=False)[0]
        return query + out


class FFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.layers = nn.Sequential(nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(inplace=True), nn.Identity()),
                                    nn.Linear(hidden, dim))

    def forward(self, x):
        return x + self.layers(x)


class DecoderLayer(nn.Module):
    def __init__(self, dim, heads, hidden, eps):
        super().__init__()
        self.attentions = nn.ModuleList([MultiheadAttention(dim, heads), MultiheadAttention(dim, heads)])
        self.ffns = nn.ModuleList([FFN(dim, hidden)])
        self.norms = nn.ModuleList(nn.LayerNorm(dim, eps=eps) for _ in range(3))

    def forward(self, tgt, memory, query_pos, key_pos, self_mask):
        tgt = self.norms[0](self.attentions[0](tgt, tgt, tgt, query_pos, query_pos, self_mask))
        tgt = self.norms[1](self.attentions[1](tgt, memory, memory, query_pos, key_pos))
        return self.norms[2](self.ffns[0](tgt))


class Decoder(nn.Module):
    def __init__(self, h):
        super().__init__()
        e, eps = h["embed_dims"], h["layer_norm_eps"]
        self.layers = nn.ModuleList(DecoderLayer(e, h["num_heads"], h["ffn_dims"], eps) for _ in range(h["num_layers"]))
        self.post_norm = nn.LayerNorm(e, eps=eps)


class Transformer(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.decoder = Decoder(h)


def pos2posemb3d(pos, num_feats, temperature=10000):
    pos = pos * (2 * math.pi)
    dim_t = torch.arange(num_feats, dtype=torch.float32, device=pos.device)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / num_feats)
    parts = []
    for axis in (1, 0, 2):  # (y, x, z)
        p = pos[..., axis, None] / dim_t
        parts.append(torch.stack((p[..., 0::2].sin(), p[..., 1::2].cos()), dim=-1).flatten(-2))
    return torch.cat(parts, dim=-1)


def sine_encoding_3d(n, h, w, num_feats, temperature=10000, eps=1e-6):
    """SinePositionalEncoding3D(normalize=True) of an all-zero (n, h, w) mask: [n, 3*num_feats, h, w]."""
    scale = 2 * math.pi
    ones = torch.ones(1, n, h, w)
    embeds = [ones.cumsum(1), ones.cumsum(2), ones.cumsum(3)]
    embeds = [e / (e.narrow(dim, e.shape[dim] - 1, 1) + eps) * scale for e, dim in zip(embeds, (1, 2, 3))]
    dim_t = torch.arange(num_feats, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / num_feats)
    out = []
    for e in embeds:  # (n, y, x)
        p = e[..., None] / dim_t
        out.append(torch.stack((p[..., 0::2].sin(), p[..., 1::2].cos()), dim=4).view(1, n, h, w, -1))
    return torch.cat(out, dim=4).permute(0, 1, 4, 2, 3)[0]


def lid_depths(h):
    d, start, far = h["depth_num"], h["depth_start"], h["position_range"][3]
    index = torch.arange(d, dtype=torch.float32)
    if h.get("lid", True):
        return start + (far - start) / (d * (1 + d)) * index * (index + 1)
    return start + (far - start) / d * index


def pixel_rays(h, feat_hw, pad_hw, depths, lidar2img):
    """Points [B, N, W, H, D, 3] in the lidar frame for each feature pixel and depth (official layout)."""
    fh, fw = feat_hw
    cw = torch.arange(fw, dtype=torch.float32) * pad_hw[1] / fw
    ch = torch.arange(fh, dtype=torch.float32) * pad_hw[0] / fh
    coords = torch.stack(torch.meshgrid([cw, ch, depths], indexing="ij")).permute(1, 2, 3, 0)
    coords = torch.cat((coords, torch.ones_like(coords[..., :1])), -1)
    coords[..., :2] = coords[..., :2] * torch.clamp(coords[..., 2:3], min=1e-5)
    img2lidar = torch.linalg.inv(lidar2img.double()).float()  # [B, N, 4, 4]
    return torch.einsum("bnij,whdj->bnwhdi", img2lidar, coords)[..., :3]


def petr_coords3d(h, feat_hw, pad_hw, lidar2img):
    """inverse_sigmoid of normalised LID points, [B*N, D*3, h, w] (channel = depth*3 + axis)."""
    pr = h["position_range"]
    c = pixel_rays(h, feat_hw, pad_hw, lid_depths(h), lidar2img)
    lo = torch.tensor(pr[:3]); span = torch.tensor(pr[3:]) - lo
    c = (c - lo) / span
    b, n = c.shape[:2]
    c = c.permute(0, 1, 4, 5, 3, 2).reshape(b * n, -1, feat_hw[0], feat_hw[1])
    return inverse_sigmoid(c)


def interpolation_weights(x, anchors):
    """Linear-interpolation weights of positions x [...] over sorted anchors: [..., A], a convex
    combination of the two neighbouring anchors (x is clamped to the anchors' span)."""
    anchors = torch.as_tensor(anchors, dtype=torch.float32)
    x = x.clamp(anchors[0], anchors[-1])
    weights = torch.zeros(*x.shape, len(anchors))
    for i in range(len(anchors) - 1):
        lo, hi = anchors[i], anchors[i + 1]
        inside = (x >= lo) & ((x < hi) | ((i == len(anchors) - 2) & (x <= hi)))
        t = ((x - lo) / (hi - lo)).clamp(0, 1)
        weights[..., i] = torch.where(inside, 1 - t, weights[..., i])
        weights[..., i + 1] = torch.where(inside, t, weights[..., i + 1])
    return weights


def qfpe_weights(h, feat_hw, pad_hw, lidar2img):
    """Q-PETR QFPE: one point per pixel ray at the depth prior, per-axis linear interpolation
    weights over the anchors: [B*N, sum(A), h, w] (channel = axis-major), each axis' weights sum to 1."""
    q = h["qfpe"]
    depth = torch.tensor([float(q["depth"])])
    p = pixel_rays(h, feat_hw, pad_hw, depth, lidar2img)[..., 0, :]  # [B, N, W, H, 3]
    b, n = p.shape[:2]
    w = torch.cat([interpolation_weights(p[..., axis], q["anchors"][axis]) for axis in range(3)], dim=-1)
    return w.permute(0, 1, 4, 3, 2).reshape(b * n, -1, feat_hw[0], feat_hw[1])


def refine_qfpe(weight, old_anchors, new_anchors):
    """QFPE embedding [E, sum(A_old), 1, 1] moved onto new anchors: each new anchor's embedding is
    the old embedding at that position, so the embedding is unchanged wherever the new anchors
    include the old ones' kinks and span; the extra anchors add capacity for fine-tuning."""
    columns, offset = [], 0
    for old, new in zip(old_anchors, new_anchors):
        block = weight[:, offset:offset + len(old), 0, 0]  # [E, A_old]
        columns.append(block @ interpolation_weights(torch.tensor(new, dtype=torch.float32), old).T)
        offset += len(old)
    return torch.cat(columns, dim=1)[..., None, None].contiguous()


class PETRHead(nn.Module):
    def __init__(self, h, in_channels):
        super().__init__()
        self.h = h
        e, classes = h["embed_dims"], h["num_classes"]
        self.input_proj = nn.Conv2d(in_channels, e, 1)
        if h.get("pe", "petr") == "qfpe":
            anchors = sum(len(a) for a in h["qfpe"]["anchors"])
            self.qfpe = nn.Conv2d(anchors, e, 1, bias=False)
        else:
            self.position_encoder = nn.Sequential(nn.Conv2d(h["depth_num"] * 3, 4 * e, 1), nn.ReLU(inplace=True),
                                                  nn.Conv2d(4 * e, e, 1))
        self.adapt_pos3d = nn.Sequential(nn.Conv2d(3 * e // 2, 4 * e, 1), nn.ReLU(inplace=True), nn.Conv2d(4 * e, e, 1))
        self.reference_points = nn.Embedding(h["num_query"], 3)
        self.query_embedding = nn.Sequential(nn.Linear(3 * e // 2, e), nn.ReLU(inplace=True), nn.Linear(e, e))
        self.transformer = Transformer(h)
        cls = nn.Sequential(nn.Linear(e, e), nn.LayerNorm(e), nn.ReLU(inplace=True), nn.Linear(e, e), nn.LayerNorm(e),
                            nn.ReLU(inplace=True), nn.Linear(e, classes))
        reg = nn.Sequential(nn.Linear(e, e), nn.ReLU(inplace=True), nn.Linear(e, e), nn.ReLU(inplace=True), nn.Linear(e, 10))
        self.cls_branches = nn.ModuleList([cls for _ in range(h["num_layers"])])
        self.reg_branches = nn.ModuleList([reg for _ in range(h["num_layers"])])
        nn.init.uniform_(self.reference_points.weight, 0, 1)
        nn.init.constant_(cls[-1].bias, -math.log((1 - 0.01) / 0.01))

    def position_embedding(self, feats, lidar2img, pad_hw):
        h = self.h
        b, n = lidar2img.shape[:2]
        fh, fw = feats.shape[-2:]
        if h.get("pe", "petr") == "qfpe":
            pe = self.qfpe(qfpe_weights(h, (fh, fw), pad_hw, lidar2img))
        else:
            pe = self.position_encoder(petr_coords3d(h, (fh, fw), pad_hw, lidar2img))
        sine = sine_encoding_3d(n, fh, fw, h["embed_dims"] // 2).to(feats.device)
        return pe.view(b, n, -1, fh, fw) + self.adapt_pos3d(sine)[None]

    def forward(self, feats, lidar2img, pad_hw, dn_refs=None, dn_mask=None):
        """feats [B*N, C, h, w]; returns cls logits [L, B, Q', classes], boxes [L, B, Q', 10]
        (x, y, z in metres as the official head returns them) and the reference points used."""
        h = self.h
        b, n = lidar2img.shape[:2]
        x = self.input_proj(feats)
        e, fh, fw = x.shape[1:]
        pos = self.position_embedding(feats, lidar2img, pad_hw)
        memory = x.view(b, n, e, fh, fw).permute(1, 3, 4, 0, 2).reshape(-1, b, e)
        key_pos = pos.permute(1, 3, 4, 0, 2).reshape(-1, b, e)
        refs = self.reference_points.weight[None].expand(b, -1, -1)
        if dn_refs is not None:
            refs = torch.cat([dn_refs, refs], dim=1)
        query_pos = self.query_embedding(pos2posemb3d(refs, e // 2)).transpose(0, 1)
        tgt = torch.zeros_like(query_pos)
        decoder = self.transformer.decoder
        outs = []
        for layer in decoder.layers:
            tgt = layer(tgt, memory, query_pos, key_pos, dn_mask)
            outs.append(decoder.post_norm(tgt))
        outs = torch.stack(outs).transpose(1, 2)  # [L, B, Q', E]
        cls = self.cls_branches[0](outs)
        reg = self.reg_branches[0](outs)
        ref = inverse_sigmoid(refs)[None]
        pr = h["pc_range"]
        cx = torch.sigmoid(reg[..., 0:1] + ref[..., 0:1]) * (pr[3] - pr[0]) + pr[0]
        cy = torch.sigmoid(reg[..., 1:2] + ref[..., 1:2]) * (pr[4] - pr[1]) + pr[1]
        cz = torch.sigmoid(reg[..., 4:5] + ref[..., 2:3]) * (pr[5] - pr[2]) + pr[2]
        boxes = torch.cat([cx, cy, reg[..., 2:4], cz, reg[..., 5:]], dim=-1)
        return cls, boxes


def make_backbone(cfg, image_hw):
    if cfg["type"] == "vim":
        from demo_petr.vim import VimBackbone
        return VimBackbone(cfg, image_hw)
    return ViTBackbone(cfg, image_hw)


class DemoPETR(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        h = config["head"]
        self.img_backbone = make_backbone(config["backbone"], config["image_size"])
        self.pts_bbox_head = PETRHead(h, config["backbone"]["embed_dim"])
        c = config["backbone"]["embed_dim"]
        # Training only: dense supervision of the backbone (class-centre heatmaps and log depth).
        self.aux_heatmap = nn.Conv2d(c, h["num_classes"], 1)
        self.aux_depth = nn.Conv2d(c, 1, 1)
        nn.init.constant_(self.aux_heatmap.bias, -2.19)

    def forward(self, images, lidar2img, dn_refs=None, dn_mask=None):
        b, n = images.shape[:2]
        feats = self.img_backbone(images.flatten(0, 1))
        cls, boxes = self.pts_bbox_head(feats, lidar2img, tuple(self.config["image_size"]), dn_refs, dn_mask)
        return cls, boxes, feats

    def export_state_dict(self):
        return {k: v for k, v in self.state_dict().items() if not k.startswith("aux_")}

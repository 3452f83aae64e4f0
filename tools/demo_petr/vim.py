"""Vision Mamba (hustvl/Vim, bimamba v2) as the demo detector's feature backbone, trainable.

The same forward as tools/vim_reference.py (the executable spec, checked against the official
code) with the official parameter names, written as modules so that it trains: the class token
sits in the middle of the sequence as in Vim and is dropped at the output, which is the final
RMSNorm of the patch tokens as a map [B, D, h, w]. The two branches' scans run as one loop over
tokens (the backward branch on the flipped sequence, as the official fast path computes it).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps) * self.weight


def selective_scan(u, delta, A, B, C, D, z):
    """`selective_scan_ref` (delta already softplus'ed) for G branches at once: u, delta, z
    [b, G, E, L]; A [G, E, N]; B, C [b, G, N, L] (one per branch); D [G, E]."""
    # Time-major and unbound once: indexing a step inside the loop would make autograd write a
    # zero tensor of the whole sequence per step.
    decay = torch.exp(delta.permute(3, 0, 1, 2).unsqueeze(-1) * A)                     # [L, b, G, E, N]
    inputs = (delta * u).permute(3, 0, 1, 2).unsqueeze(-1) * B.permute(3, 0, 1, 2).unsqueeze(3)
    state = torch.zeros_like(inputs[0])
    states = []
    for step_decay, step_input in zip(decay.unbind(0), inputs.unbind(0)):
        state = step_decay * state + step_input
        states.append(state)
    y = torch.einsum("lbgen,bgnl->bgel", torch.stack(states), C)
    return (y + u * D[..., None]) * F.silu(z)


def dt_bias(inner):
    """dt_proj's bias: the inverse softplus of a log-uniform step in [1e-3, 0.1] (Mamba's init)."""
    dt = torch.exp(torch.rand(inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3)).clamp(min=1e-4)
    return dt + torch.log(-torch.expm1(-dt))


class Mixer(nn.Module):
    """`Mamba` with bimamba_type v2 and divide_out: h [b, L, D] -> [b, L, D]. Parameters carry
    the official names (the backward branch's with the suffix `_b`)."""

    def __init__(self, dim, state, conv, expand, rank):
        super().__init__()
        inner = expand * dim
        self.rank, self.state = rank, state
        self.in_proj = nn.Linear(dim, 2 * inner, bias=False)
        self.out_proj = nn.Linear(inner, dim, bias=False)
        for suffix in ("", "_b"):
            setattr(self, f"conv1d{suffix}", nn.Conv1d(inner, inner, conv, groups=inner, padding=conv - 1))
            setattr(self, f"x_proj{suffix}", nn.Linear(inner, rank + 2 * state, bias=False))
            dt_proj = nn.Linear(rank, inner)
            with torch.no_grad():
                nn.init.uniform_(dt_proj.weight, -rank ** -0.5, rank ** -0.5)
                dt_proj.bias.copy_(dt_bias(inner))
            setattr(self, f"dt_proj{suffix}", dt_proj)
            setattr(self, f"A{suffix}_log", nn.Parameter(torch.log(torch.arange(1, state + 1, dtype=torch.float32)).repeat(inner, 1)))
            setattr(self, f"D{suffix}", nn.Parameter(torch.ones(inner)))

    def branch_inputs(self, x, suffix):
        """x [b, E, L] -> the scan's u, delta [b, E, L] and B, C [b, N, L] for one direction."""
        length, rank, state = x.shape[-1], self.rank, self.state
        u = F.silu(getattr(self, f"conv1d{suffix}")(x)[..., :length])
        projected = getattr(self, f"x_proj{suffix}")(u.transpose(1, 2))                   # [b, L, r + 2N]
        delta = F.softplus(getattr(self, f"dt_proj{suffix}")(projected[..., :rank])).transpose(1, 2)
        return u, delta, projected[..., rank:rank + state].transpose(1, 2), projected[..., rank + state:].transpose(1, 2)

    def forward(self, h):
        x, z = self.in_proj(h).transpose(1, 2).chunk(2, dim=1)                          # [b, E, L] each
        both = zip(self.branch_inputs(x, ""), self.branch_inputs(x.flip(-1), "_b"))
        u, delta, B, C = (torch.stack(pair, 1) for pair in both)                          # [b, 2, ., L]
        y = selective_scan(u, delta, -torch.exp(torch.stack([self.A_log, self.A_b_log])), B, C,
                           torch.stack([self.D, self.D_b]), torch.stack([z, z.flip(-1)], 1))
        return self.out_proj(((y[:, 0] + y[:, 1].flip(-1)) / 2).transpose(1, 2))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["embed_dim"]
        self.norm = RMSNorm(d, cfg["norm_eps"])
        self.mixer = Mixer(d, cfg["d_state"], cfg["d_conv"], cfg["expand"], cfg["dt_rank"])


class VimBackbone(nn.Module):
    """Vim's embedding and layers (residual + RMSNorm blocks), the class token in the middle;
    returns the final-norm patch tokens as a feature map [B, D, h, w]."""

    def __init__(self, cfg, image_hw):
        super().__init__()
        p, s, d = cfg["patch_size"], cfg.get("stride", cfg["patch_size"]), cfg["embed_dim"]
        self.grid = ((image_hw[0] - p) // s + 1, (image_hw[1] - p) // s + 1)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(cfg.get("in_chans", 3), d, p, stride=s)
        patches = self.grid[0] * self.grid[1]
        self.middle = patches // 2 if cfg.get("middle_cls_token", True) else 0
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, patches + 1, d) * 0.02)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg["depth"]))
        self.norm_f = RMSNorm(d, cfg["norm_eps"])

    def forward(self, images):
        x = self.patch_embed.proj(images).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([x[:, :self.middle], cls, x[:, self.middle:]], 1) + self.pos_embed
        residual, hidden = None, x
        for layer in self.layers:
            residual = hidden if residual is None else residual + hidden
            hidden = layer.mixer(layer.norm(residual))
        out = self.norm_f(residual + hidden if self.layers else hidden)
        out = torch.cat([out[:, :self.middle], out[:, self.middle + 1:]], 1)
        return out.transpose(1, 2).reshape(out.shape[0], -1, *self.grid)


def vim_backbone_config(embed_dim=128, depth=6, patch_size=16):
    """The `backbone` entry of the Vim demo detector (Vim's defaults: d_state 16, d_conv 4,
    expand 2, dt_rank ceil(D / 16), RMSNorm eps 1e-5, middle class token, divide_out)."""
    return {"type": "vim", "patch_size": patch_size, "stride": patch_size, "in_chans": 3, "embed_dim": embed_dim,
            "depth": depth, "d_state": 16, "d_conv": 4, "expand": 2, "dt_rank": math.ceil(embed_dim / 16),
            "norm_eps": 1e-5, "bimamba_type": "v2", "middle_cls_token": True, "divide_out": True}

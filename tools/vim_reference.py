"""Vision Mamba (hustvl/Vim, bimamba v2) in plain PyTorch: the executable spec of a "vim" bundle.

Written from the official code (hustvl/Vim @dd0358a): `vim/models_mamba.py` (VisionMamba,
Block with fused add + RMSNorm, residual in fp32, middle class token), `mamba_simple.py`
(Mamba.forward's fast path for bimamba_type "v2": the backward branch runs its own conv1d_b,
x_proj_b, dt_proj_b, A_b_log, D_b on the flipped x and z, and its output is flipped back; the
sum is divided by 2), `selective_scan_interface.py` (`selective_scan_ref` math,
`mamba_inner_fn_no_out_proj` layout) and `triton/layer_norm.py` (`rms_norm_ref`).
Unlike the official module it needs no CUDA extension, and it never takes the non-fast path that
silently drops the backward branch. Tensors keep the official layouts ([B, D, L] inside the mixer).

`forward(config, weights, pixel_values)` reads only config.json fields and the official
state_dict names; `CONFIGS` holds the registered model sizes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_FAMILY = "bimambav2_final_pool_mean_abs_pos_embed_with"
# The registered names of hustvl/Vim (Vim-B's spells "middle_cls_token"), with MambaQuant's
# names of the stride-8 models ("tinyplus", "smallplus") as aliases.
CONFIGS = {
    f"vim_tiny_patch16_224_{_FAMILY}_midclstok_div2": dict(embed_dim=192, stride=16),
    f"vim_tiny_patch16_stride8_224_{_FAMILY}_midclstok_div2": dict(embed_dim=192, stride=8),
    f"vim_small_patch16_224_{_FAMILY}_midclstok_div2": dict(embed_dim=384, stride=16),
    f"vim_small_patch16_stride8_224_{_FAMILY}_midclstok_div2": dict(embed_dim=384, stride=8),
    f"vim_base_patch16_224_{_FAMILY}_middle_cls_token_div2": dict(embed_dim=768, stride=16),
}
ALIASES = {
    f"vim_tinyplus_patch16_stride8_224_{_FAMILY}_midclstok_div2": f"vim_tiny_patch16_stride8_224_{_FAMILY}_midclstok_div2",
    f"vim_smallplus_patch16_stride8_224_{_FAMILY}_midclstok_div2": f"vim_small_patch16_stride8_224_{_FAMILY}_midclstok_div2",
}

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def make_config(embed_dim: int, depth: int = 24, patch_size: int = 16, stride: int = 16,
                image_size=(224, 224), in_chans: int = 3, d_state: int = 16, d_conv: int = 4,
                expand: int = 2, dt_rank=None, num_classes: int = 1000, norm_eps: float = 1e-5,
                middle_cls_token: bool = True, divide_out: bool = True, source: str = "") -> dict:
    """A bundle config.json: VisionMamba's constructor defaults unless given (dt_rank 'auto' =
    ceil(embed_dim / 16))."""
    return {
        "architecture": "vim",
        "source": source,
        "image_size": [int(image_size[0]), int(image_size[1])],
        "patch_size": patch_size,
        "stride": stride,
        "in_chans": in_chans,
        "embed_dim": embed_dim,
        "depth": depth,
        "d_state": d_state,
        "d_conv": d_conv,
        "expand": expand,
        "dt_rank": math.ceil(embed_dim / 16) if dt_rank is None else dt_rank,
        "num_classes": num_classes,
        "norm_eps": norm_eps,
        "bimamba_type": "v2",
        "middle_cls_token": middle_cls_token,
        "divide_out": divide_out,
        "preprocess": {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "interpolation": "bicubic", "crop_pct": 0.875},
    }


def registered_config(name: str) -> dict:
    """The config of a registered model name (or alias)."""
    canonical = ALIASES.get(name, name)
    if canonical not in CONFIGS:
        known = "\n  ".join(list(CONFIGS) + list(ALIASES))
        raise KeyError(f"unknown Vim model {name!r}; registered:\n  {known}")
    return make_config(**CONFIGS[canonical], source=f"hustvl/Vim:{canonical}")


def grid(cfg: dict) -> tuple[int, int]:
    """PatchEmbed.grid_size: ((H - patch) // stride + 1, (W - patch) // stride + 1)."""
    p, s = cfg["patch_size"], cfg["stride"]
    return tuple((size - p) // s + 1 for size in cfg["image_size"])


def d_inner(cfg: dict) -> int:
    return cfg["expand"] * cfg["embed_dim"]


def parameter_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """Every tensor of the official state_dict, by name, with its shape."""
    D, E, N, r, K = cfg["embed_dim"], d_inner(cfg), cfg["d_state"], cfg["dt_rank"], cfg["d_conv"]
    gh, gw = grid(cfg)
    shapes = {
        "patch_embed.proj.weight": (D, cfg["in_chans"], cfg["patch_size"], cfg["patch_size"]),
        "patch_embed.proj.bias": (D,),
        "cls_token": (1, 1, D),
        "pos_embed": (1, gh * gw + 1, D),
        "norm_f.weight": (D,),
    }
    if cfg["num_classes"] > 0:
        shapes.update({"head.weight": (cfg["num_classes"], D), "head.bias": (cfg["num_classes"],)})
    for i in range(cfg["depth"]):
        p = f"layers.{i}."
        shapes[p + "norm.weight"] = (D,)
        shapes[p + "mixer.in_proj.weight"] = (2 * E, D)
        for b in ("", "_b"):
            shapes[p + f"mixer.conv1d{b}.weight"] = (E, 1, K)
            shapes[p + f"mixer.conv1d{b}.bias"] = (E,)
            shapes[p + f"mixer.x_proj{b}.weight"] = (r + 2 * N, E)
            shapes[p + f"mixer.dt_proj{b}.weight"] = (E, r)
            shapes[p + f"mixer.dt_proj{b}.bias"] = (E,)
        shapes[p + "mixer.A_log"] = (E, N)
        shapes[p + "mixer.A_b_log"] = (E, N)
        shapes[p + "mixer.D"] = (E,)
        shapes[p + "mixer.D_b"] = (E,)
        shapes[p + "mixer.out_proj.weight"] = (D, E)
    return shapes


def random_weights(cfg: dict, seed: int = 0, perturb: bool = True) -> dict[str, torch.Tensor]:
    """Seeded weights of the official shapes, drawn like the official init (nn defaults for the
    linears and convs, dt_proj's uniform weight and inverse-softplus bias over [1e-3, 0.1],
    A_log = log(1..N), D = 1, truncated normal 0.02 tokens and head). `perturb` moves the
    constant ones (norm weights, A_log, D, biases) off their init, so a test notices a tensor
    that is read from the wrong place."""
    g = torch.Generator().manual_seed(seed)
    D, r = cfg["embed_dim"], cfg["dt_rank"]

    def uniform(shape, bound):
        return (torch.rand(shape, generator=g) * 2 - 1) * bound

    def normal(shape, std):
        return torch.randn(shape, generator=g) * std

    w = {}
    for name, shape in parameter_shapes(cfg).items():
        if name == "patch_embed.proj.weight":
            fan_in = shape[1] * shape[2] * shape[3]
            w[name] = normal(shape, math.sqrt(1 / fan_in))
        elif name in ("cls_token", "pos_embed"):
            w[name] = normal(shape, 0.02 if not perturb else 0.2)
        elif name == "head.weight":
            w[name] = normal(shape, 0.02 if not perturb else 0.2)
        elif name.endswith("norm.weight") or name == "norm_f.weight":
            w[name] = torch.ones(shape) + (normal(shape, 0.2) if perturb else 0)
        elif name.endswith("A_log") or name.endswith("A_b_log"):
            base = torch.log(torch.arange(1, shape[1] + 1, dtype=torch.float32)).repeat(shape[0], 1)
            w[name] = base + (normal(shape, 0.3) if perturb else 0)
        elif name.endswith("mixer.D") or name.endswith("mixer.D_b"):
            w[name] = torch.ones(shape) + (normal(shape, 0.3) if perturb else 0)
        elif ".dt_proj" in name and name.endswith("weight"):
            w[name] = uniform(shape, r ** -0.5)
        elif ".dt_proj" in name and name.endswith("bias"):
            dt = torch.exp(torch.rand(shape, generator=g) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
            dt = dt.clamp(min=1e-4)
            w[name] = dt + torch.log(-torch.expm1(-dt))
        elif ".conv1d" in name:
            w[name] = uniform(shape, 1 / math.sqrt(shape[-1]) if name.endswith("weight") else 0.5)
        elif name.endswith("bias"):
            w[name] = normal(shape, 0.1) if perturb else torch.zeros(shape)
        else:  # in_proj, x_proj, out_proj: nn.Linear's kaiming-uniform bound 1/sqrt(fan_in)
            w[name] = uniform(shape, 1 / math.sqrt(shape[1]))
    return w


# ----------------------------------------------------------------------------
# The forward pass


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """`rms_norm_ref` without bias or residual."""
    return x * (1 / torch.sqrt(x.square().mean(dim=-1, keepdim=True) + eps)) * weight


def selective_scan_ref(u, delta, A, B, C, D, z, delta_bias):
    """`selective_scan_ref` with delta_softplus=True, real A, variable B and C:
    u, delta, z [b, d, l]; A [d, n]; B, C [b, n, l]; D, delta_bias [d]."""
    delta = F.softplus(delta + delta_bias[..., None])
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    x = u.new_zeros((u.shape[0], A.shape[0], A.shape[1]))
    ys = []
    for i in range(u.shape[2]):
        x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", x, C[:, :, i]))
    y = torch.stack(ys, dim=2)
    out = y + u * D[:, None]
    return out * F.silu(z)


def mamba_inner_no_out_proj(xz, conv_weight, conv_bias, x_proj_weight, dt_proj_weight, A, D, dt_bias):
    """`MambaInnerFnNoOutProj.forward`: xz [b, 2E, l] -> the gated scan output [b, E, l]."""
    L, r, N = xz.shape[-1], dt_proj_weight.shape[1], A.shape[1]
    x, z = xz.chunk(2, dim=1)
    # causal_conv1d_fwd(..., silu_activation=True) = SiLU of the causal depthwise conv
    x = F.silu(F.conv1d(x, conv_weight, conv_bias, padding=conv_weight.shape[-1] - 1, groups=x.shape[1])[..., :L])
    x_dbl = F.linear(x.transpose(1, 2).reshape(-1, x.shape[1]), x_proj_weight)         # [(b l), r + 2N]
    delta = (dt_proj_weight @ x_dbl[:, :r].t()).reshape(-1, xz.shape[0], L).transpose(0, 1)  # [b, E, l]
    B = x_dbl[:, r:r + N].reshape(xz.shape[0], L, N).transpose(1, 2)
    C = x_dbl[:, -N:].reshape(xz.shape[0], L, N).transpose(1, 2)
    return selective_scan_ref(x, delta, A, B, C, D, z, dt_bias)


def mixer(cfg: dict, w: dict, p: str, h: torch.Tensor) -> torch.Tensor:
    """`Mamba.forward`, fast path, bimamba_type "v2": h [b, l, D] -> [b, l, D]."""
    xz = (w[p + "in_proj.weight"] @ h.reshape(-1, h.shape[-1]).t()).reshape(-1, h.shape[0], h.shape[1]).transpose(0, 1)
    out = mamba_inner_no_out_proj(xz, w[p + "conv1d.weight"], w[p + "conv1d.bias"], w[p + "x_proj.weight"],
                                  w[p + "dt_proj.weight"], -torch.exp(w[p + "A_log"]), w[p + "D"], w[p + "dt_proj.bias"])
    out_b = mamba_inner_no_out_proj(xz.flip([-1]), w[p + "conv1d_b.weight"], w[p + "conv1d_b.bias"], w[p + "x_proj_b.weight"],
                                    w[p + "dt_proj_b.weight"], -torch.exp(w[p + "A_b_log"]), w[p + "D_b"],
                                    w[p + "dt_proj_b.bias"])
    y = (out + out_b.flip([-1])).transpose(1, 2)
    if cfg["divide_out"]:
        y = y / 2
    return F.linear(y, w[p + "out_proj.weight"])


def class_token_index(cfg: dict) -> int:
    gh, gw = grid(cfg)
    return (gh * gw) // 2 if cfg["middle_cls_token"] else 0


def tokens(cfg: dict, weights: dict[str, torch.Tensor], pixel_values: torch.Tensor) -> torch.Tensor:
    """VisionMamba.forward_features up to the final norm, every token: [b, patches + 1, D], the
    class token at class_token_index. Computed in pixel_values.dtype."""
    w = {k: v.to(pixel_values.dtype) for k, v in weights.items()}
    x = F.conv2d(pixel_values, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], stride=cfg["stride"])
    x = x.flatten(2).transpose(1, 2)
    position = class_token_index(cfg)
    cls = w["cls_token"].expand(x.shape[0], -1, -1)
    x = torch.cat((x[:, :position], cls, x[:, position:]), dim=1) + w["pos_embed"]
    residual, hidden = None, x
    for i in range(cfg["depth"]):
        residual = hidden if residual is None else residual + hidden
        hidden = mixer(cfg, w, f"layers.{i}.mixer.", rms_norm(residual, w[f"layers.{i}.norm.weight"], cfg["norm_eps"]))
    return rms_norm(hidden if residual is None else residual + hidden, w["norm_f.weight"], cfg["norm_eps"])


def patch_features(cfg: dict, weights: dict[str, torch.Tensor], pixel_values: torch.Tensor) -> torch.Tensor:
    """Vim as a detector's feature backbone: the final-norm patch tokens, the class token
    dropped, as a map [b, D, h, w] (cfg's image_size is the input's)."""
    assert list(pixel_values.shape[2:]) == list(cfg["image_size"]), "image_size must be the input's"
    out = tokens(cfg, weights, pixel_values)
    position = class_token_index(cfg)
    out = torch.cat([out[:, :position], out[:, position + 1:]], 1)
    return out.transpose(1, 2).reshape(out.shape[0], -1, *grid(cfg))


def forward(cfg: dict, weights: dict[str, torch.Tensor], pixel_values: torch.Tensor) -> torch.Tensor:
    """VisionMamba.forward in eval mode (drop path and dropout are identities): logits
    [b, num_classes], or the class token's features when num_classes is 0. Computed in
    pixel_values.dtype."""
    features = tokens(cfg, weights, pixel_values)[:, class_token_index(cfg), :]
    w = {k: v.to(pixel_values.dtype) for k, v in weights.items() if k.startswith("head.")}
    return F.linear(features, w["head.weight"], w["head.bias"]) if cfg["num_classes"] > 0 else features

"""Shared helpers for writing and checking Onboard model bundles.

A bundle is a directory with `config.json` and `model.safetensors` (timm
state_dict names, unchanged).  This module:

  * reads the bundle config from an instantiated timm ViT (`vit_config`),
    refusing models whose structure the bundle format cannot describe;
  * writes the bundle atomically (`write_bundle`);
  * holds `reference_forward`, a forward pass that uses only config.json and
    the stored tensors (plain torch.nn.functional ops, no timm).  It is the
    executable spec of the format: the Swift implementation must match it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file


class UnsupportedModel(Exception):
    """The timm model has a structure the bundle format cannot describe."""


# Tensors a ViT bundle may hold; anything else in the state_dict is dropped.
BUNDLE_TENSOR_RE = re.compile(
    r"^(patch_embed\.proj\.(weight|bias)"
    r"|cls_token|dist_token|reg_token|pos_embed"
    r"|(norm_pre|norm|fc_norm|head|head_dist)\.(weight|bias)"
    r"|blocks\.\d+\.(norm1|attn\.qkv|attn\.proj|norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias)"
    r"|blocks\.\d+\.ls[12]\.gamma)$"
)


# ----------------------------------------------------------------------------
# Atomic file writes


def atomic_write(path: str, write) -> None:
    """Call write(tmp_path), then rename tmp_path over path."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path: str, text: str) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    atomic_write(path, write)


def write_json(path: str, obj) -> None:
    text = json.dumps(obj, indent=2)
    # Keep short lists of numbers on one line: "image_size": [224, 224]
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
    write_text(path, text + "\n")


def write_safetensors(path: str, tensors: dict[str, torch.Tensor]) -> None:
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write(path, lambda tmp: save_file(tensors, tmp))


# ----------------------------------------------------------------------------
# Reading the config from a timm model


def _act_name(act: nn.Module) -> str:
    from timm.layers import activations as A
    if isinstance(act, nn.GELU):
        names = {"none": "gelu", "tanh": "gelu_tanh"}
        if act.approximate in names:
            return names[act.approximate]
    elif type(act) is A.GELU:
        return "gelu"
    elif type(act) is A.GELUTanh:
        return "gelu_tanh"
    raise UnsupportedModel(f"unsupported MLP activation {act!r} (only GELU erf / tanh)")


def _layer_norms(model: nn.Module, names: list[str]) -> list[nn.LayerNorm]:
    from timm.layers import LayerNorm
    lns = []
    for name in names:
        m = model.get_submodule(name)
        if type(m) not in (nn.LayerNorm, LayerNorm):
            raise UnsupportedModel(f"{name} is {type(m).__name__}, expected LayerNorm")
        if m.weight is None or m.bias is None:
            raise UnsupportedModel(f"{name}: LayerNorm without affine weight/bias")
        lns.append(m)
    return lns


def vit_config(model: nn.Module, source: str) -> dict:
    """Bundle config.json for a timm VisionTransformer(/Distilled), or raise UnsupportedModel."""
    from timm.layers import Attention, LayerScale, Mlp, PatchEmbed
    from timm.models.deit import VisionTransformerDistilled
    from timm.models.vision_transformer import Block, VisionTransformer

    def need(cond, msg):
        if not cond:
            raise UnsupportedModel(f"{source}: {msg}")

    need(isinstance(model, VisionTransformer), f"{type(model).__name__} is not a timm VisionTransformer")
    distilled = isinstance(model, VisionTransformerDistilled)
    need(type(model) in (VisionTransformer, VisionTransformerDistilled),
         f"subclass {type(model).__name__} is not supported")
    need(getattr(model, "attn_pool", None) is None, f"attention pooling (global_pool={model.global_pool!r})")
    need(model.global_pool in ("token", "avg"), f"global_pool {model.global_pool!r} (only 'token'/'avg')")
    need(not getattr(model, "pool_include_prefix", False), "pool_include_prefix=True")
    need(model.pos_embed is not None, "no learned pos_embed")

    pe = model.patch_embed
    need(type(pe) is PatchEmbed, f"patch embed {type(pe).__name__}")
    need(isinstance(pe.norm, nn.Identity), "patch_embed.norm is not Identity")
    need(not pe.dynamic_img_pad, "dynamic_img_pad")
    ph, pw = pe.patch_size
    need(ph == pw, f"non-square patch {pe.patch_size}")
    conv = pe.proj
    need(tuple(conv.kernel_size) == (ph, pw) and tuple(conv.stride) == (ph, pw)
         and tuple(conv.padding) == (0, 0) and conv.groups == 1 and tuple(conv.dilation) == (1, 1),
         "patch_embed.proj is not a plain patchify conv")
    H, W = pe.img_size
    need(H % ph == 0 and W % pw == 0, f"image {H}x{W} not divisible by patch {ph}")

    D = model.embed_dim
    has_cls = model.cls_token is not None
    n_reg = model.reg_token.shape[1] if model.reg_token is not None else 0
    n_prefix = int(has_cls) + int(distilled) + n_reg
    need(model.num_prefix_tokens == n_prefix, f"num_prefix_tokens {model.num_prefix_tokens} != {n_prefix}")
    n_patches = (H // ph) * (W // pw)
    need(model.pos_embed.shape == (1, n_patches + (0 if model.no_embed_class else n_prefix), D),
         f"pos_embed shape {tuple(model.pos_embed.shape)}")
    if distilled:
        need(n_reg == 0 and has_cls and model.global_pool == "token", "distilled model with reg tokens/no cls")
        need(not model.no_embed_class, "distilled + no_embed_class (timm sizes pos_embed inconsistently)")
        need(isinstance(model.fc_norm, nn.Identity), "distilled model with fc_norm (timm ignores it)")

    use_fc_norm = not isinstance(model.fc_norm, nn.Identity)
    need(isinstance(model.norm, nn.Identity) == use_fc_norm, "needs exactly one of norm / fc_norm (final_norm=False?)")
    pre_norm = not isinstance(model.norm_pre, nn.Identity)
    need(isinstance(model.patch_drop, nn.Identity), "patch dropout")

    blocks = list(model.blocks)
    need(len(blocks) > 0, "no blocks")
    b0 = blocks[0]
    act = _act_name(b0.mlp.act)
    layer_scale = isinstance(b0.ls1, LayerScale)
    qkv_bias = b0.attn.qkv.bias is not None
    hidden = b0.mlp.fc1.out_features
    num_heads = b0.attn.num_heads
    ln_names = ["norm_pre"] if pre_norm else []
    ln_names.append("fc_norm" if use_fc_norm else "norm")
    for i, b in enumerate(blocks):
        a, m = b.attn, b.mlp
        need(type(b) is Block, f"blocks.{i} is {type(b).__name__}")
        need(type(a) is Attention, f"blocks.{i}.attn is {type(a).__name__}")
        need(type(m) is Mlp, f"blocks.{i}.mlp is {type(m).__name__} (only plain GELU Mlp)")
        need(isinstance(a.q_norm, nn.Identity) and isinstance(a.k_norm, nn.Identity), f"blocks.{i}: qk_norm")
        need(isinstance(a.norm, nn.Identity), f"blocks.{i}: attention scale_norm")
        need(getattr(a, "gate", None) is None, f"blocks.{i}: gated attention")
        need(a.num_heads == num_heads and a.head_dim * num_heads == D and a.qkv.out_features == 3 * D,
             f"blocks.{i}: head layout")
        need(abs(a.scale - a.head_dim ** -0.5) < 1e-12, f"blocks.{i}: attention scale")
        need((a.qkv.bias is not None) == qkv_bias, f"blocks.{i}: inconsistent qkv bias")
        need(a.proj.bias is not None, f"blocks.{i}: attn.proj without bias")
        need(isinstance(m.norm, nn.Identity), f"blocks.{i}: mlp norm (scale_mlp_norm)")
        need(m.fc1.bias is not None and m.fc2.bias is not None, f"blocks.{i}: mlp without bias")
        need(m.fc1.out_features == hidden and m.fc2.out_features == D, f"blocks.{i}: mlp dims")
        need(_act_name(m.act) == act, f"blocks.{i}: activation differs")
        for ls in (b.ls1, b.ls2):
            need(isinstance(ls, LayerScale) == layer_scale and (layer_scale or isinstance(ls, nn.Identity)),
                 f"blocks.{i}: layer scale")
        ln_names += [f"blocks.{i}.norm1", f"blocks.{i}.norm2"]
    eps = {ln.eps for ln in _layer_norms(model, ln_names)}
    need(len(eps) == 1, f"LayerNorms use different eps {sorted(eps)}")

    num_classes = model.num_classes
    for name in ("head", "head_dist") if distilled else ("head",):
        h = model.get_submodule(name)
        need(isinstance(h, nn.Identity) if num_classes == 0 else
             (type(h) is nn.Linear and h.out_features == num_classes and h.bias is not None),
             f"{name} is not Linear({D}, {num_classes})")

    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
    pcfg = getattr(model, "pretrained_cfg", None) or {}
    return {
        "architecture": "vit",
        "source": source,
        "image_size": [H, W],
        "patch_size": ph,
        "in_chans": conv.in_channels,
        "embed_dim": D,
        "depth": len(blocks),
        "num_heads": num_heads,
        "mlp_hidden_dim": hidden,
        "num_classes": num_classes,
        "class_token": has_cls,
        "reg_tokens": n_reg,
        "distilled": distilled,
        "no_embed_class": bool(model.no_embed_class),
        "global_pool": model.global_pool,
        "fc_norm": use_fc_norm,
        "pre_norm": pre_norm,
        "layer_scale": layer_scale,
        "qkv_bias": qkv_bias,
        "layer_norm_eps": eps.pop(),
        "act": act,
        "preprocess": {
            "mean": [float(v) for v in pcfg.get("mean", IMAGENET_DEFAULT_MEAN)],
            "std": [float(v) for v in pcfg.get("std", IMAGENET_DEFAULT_STD)],
            "interpolation": pcfg.get("interpolation", "bicubic"),
            "crop_pct": float(pcfg.get("crop_pct", 0.875)),
        },
    }


# ----------------------------------------------------------------------------
# Writing / reading bundles


def bundle_tensors(model: nn.Module, fp16: bool = False) -> dict[str, torch.Tensor]:
    """The model's state_dict restricted to bundle tensor names, as float32 (or float16)."""
    dtype = torch.float16 if fp16 else torch.float32
    out, dropped = {}, []
    for name, t in model.state_dict().items():
        if BUNDLE_TENSOR_RE.match(name):
            out[name] = t.detach().to(dtype)
        else:
            dropped.append(name)
    if dropped:
        print(f"note: dropped tensors not used by the bundle: {', '.join(dropped)}", file=sys.stderr)
    return out


def round_params_to_fp16(model: nn.Module) -> None:
    """Round every parameter to the nearest float16 value (kept as float32), in place."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def write_bundle(model: nn.Module, out_dir: str, source: str, fp16: bool = False) -> dict:
    """Write config.json + model.safetensors for a timm ViT; returns the config."""
    config = vit_config(model, source)
    tensors = bundle_tensors(model, fp16)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    write_json(os.path.join(out_dir, "config.json"), config)
    return config


def load_bundle(bundle_dir: str) -> tuple[dict, dict[str, torch.Tensor]]:
    with open(os.path.join(bundle_dir, "config.json")) as f:
        config = json.load(f)
    return config, load_file(os.path.join(bundle_dir, "model.safetensors"))


# ----------------------------------------------------------------------------
# Reference forward: config.json + tensors only (spec for the Swift side)


def reference_forward(cfg: dict, w: dict[str, torch.Tensor], x: torch.Tensor):
    """Returns (logits, pre_logits) for pixel_values x [B, C, H, W], computed in x.dtype."""
    w = {k: v.to(x.dtype) for k, v in w.items()}
    D, nh, eps = cfg["embed_dim"], cfg["num_heads"], cfg["layer_norm_eps"]
    hd = D // nh
    ln = lambda t, name: F.layer_norm(t, (D,), w[f"{name}.weight"], w[f"{name}.bias"], eps)
    act = partial(F.gelu, approximate="tanh" if cfg["act"] == "gelu_tanh" else "none")
    B = x.shape[0]

    # Patchify conv -> tokens in row-major (row, col) order of the patch grid.
    x = F.conv2d(x, w["patch_embed.proj.weight"], w.get("patch_embed.proj.bias"), stride=cfg["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    # Prefix tokens in order [cls, dist, reg...].
    prefix = [w[n].expand(B, -1, -1) for n in ("cls_token", "dist_token", "reg_token") if n in w]
    n_prefix = sum(p.shape[1] for p in prefix)
    if cfg["no_embed_class"]:          # pos_embed covers patches only: add, then prepend prefix
        x = torch.cat(prefix + [x + w["pos_embed"]], dim=1)
    else:                              # pos_embed covers prefix + patches: prepend, then add
        x = torch.cat(prefix + [x], dim=1) + w["pos_embed"]
    if cfg["pre_norm"]:
        x = ln(x, "norm_pre")

    N = x.shape[1]
    for i in range(cfg["depth"]):
        p = f"blocks.{i}."
        qkv = F.linear(ln(x, p + "norm1"), w[p + "attn.qkv.weight"], w.get(p + "attn.qkv.bias"))
        q, k, v = qkv.reshape(B, N, 3, nh, hd).permute(2, 0, 3, 1, 4)   # each [B, nh, N, hd]
        a = ((q @ k.transpose(-2, -1)) * hd ** -0.5).softmax(-1) @ v
        h = F.linear(a.transpose(1, 2).reshape(B, N, D), w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])
        x = x + (h * w[p + "ls1.gamma"] if cfg["layer_scale"] else h)
        h = act(F.linear(ln(x, p + "norm2"), w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"]))
        h = F.linear(h, w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])
        x = x + (h * w[p + "ls2.gamma"] if cfg["layer_scale"] else h)

    if not cfg["fc_norm"]:
        x = ln(x, "norm")
    has_head = cfg["num_classes"] > 0
    if cfg["distilled"]:               # mean of the two token heads (eval mode)
        pre = (x[:, 0] + x[:, 1]) / 2
        if not has_head:
            return pre, pre
        logits = (F.linear(x[:, 0], w["head.weight"], w["head.bias"])
                  + F.linear(x[:, 1], w["head_dist.weight"], w["head_dist.bias"])) / 2
        return logits, pre
    pre = x[:, 0] if cfg["global_pool"] == "token" else x[:, n_prefix:].mean(1)
    if cfg["fc_norm"]:
        pre = ln(pre, "fc_norm")
    return (F.linear(pre, w["head.weight"], w["head.bias"]) if has_head else pre), pre


def timm_forward(model: nn.Module, x: torch.Tensor):
    """(logits, pre_logits) from the timm model in eval mode."""
    model.eval()
    with torch.no_grad():
        feats = model.forward_features(x)
        return model.forward_head(feats), model.forward_head(feats, pre_logits=True)


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (0 if b is all zero)."""
    a, b = a.double(), b.double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / scale if scale > 0 else (a - b).abs().max().item()


def check_bundle(model: nn.Module, bundle_dir: str, x: torch.Tensor, tol: float = 1e-4) -> float:
    """Compare the timm model against reference_forward on the written bundle; raise if off."""
    cfg, w = load_bundle(bundle_dir)
    with torch.no_grad():
        ref_logits, ref_pre = reference_forward(cfg, w, x)
    logits, pre = timm_forward(model, x)
    err = max(rel_err(ref_logits, logits), rel_err(ref_pre, pre))
    if err > tol:
        raise RuntimeError(f"bundle reference forward disagrees with timm: rel err {err:.3g} > {tol}")
    return err

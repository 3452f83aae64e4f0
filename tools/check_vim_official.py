#!/usr/bin/env python3
"""Cross-check tools/vim_reference.py against the OFFICIAL Vision Mamba code, executed.

  PYTHONPATH=/work/venv-vim-model /work/venv/bin/python tools/check_vim_official.py --vim VIM_GIT_DIR

VIM_GIT_DIR is a git directory of hustvl/Vim (read at --rev, default HEAD; needs einops and
timm importable). Its files are read with `git show` into a temporary directory and imported
there, never copied into this repository: vim/models_mamba.py (VisionMamba, Block),
mamba-1p1p1/mamba_ssm/modules/mamba_simple.py (Mamba), mamba_ssm/ops/selective_scan_interface.py
(MambaInnerFnNoOutProj, selective_scan_ref) and mamba_ssm/ops/triton/layer_norm.py (rms_norm_ref).

The official code cannot run on a CPU: its CUDA extensions are replaced, below, by the official
reference math: `selective_scan_cuda.fwd` by the file's own `selective_scan_ref` (with z, which
is what the kernel's out_z is), `causal_conv1d_cuda.causal_conv1d_fwd` by nn.Conv1d with padding
K-1 cut to L then SiLU (Mamba.forward's own fallback), and the Triton `rms_norm_fn` by the file's
own `rms_norm_ref`. Everything else runs as written, including Mamba.forward's fast path with the
bimamba v2 backward branch. The official model gets the reference's random weights through
`load_state_dict(strict=True)` (so the tensor names and shapes are the official ones) and both
run in float64 in eval mode; they must agree to --tolerance relative.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import types
import warnings

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vim_reference as ref  # noqa: E402

FILES = {
    "vim/models_mamba.py": "models_mamba.py",
    "vim/rope.py": "rope.py",
    "mamba-1p1p1/mamba_ssm/modules/mamba_simple.py": "mamba_ssm/modules/mamba_simple.py",
    "mamba-1p1p1/mamba_ssm/ops/selective_scan_interface.py": "mamba_ssm/ops/selective_scan_interface.py",
    "mamba-1p1p1/mamba_ssm/ops/triton/layer_norm.py": "mamba_ssm/ops/triton/layer_norm.py",
}

# Small models (the fixture shapes) and the official Tiny, each as make_config overrides.
CASES = {
    "small patch16": dict(embed_dim=32, depth=2, image_size=(64, 48), num_classes=10),
    "small stride8": dict(embed_dim=32, depth=2, stride=8, image_size=(64, 48), num_classes=10),
    "class token first, no divide-out": dict(embed_dim=32, depth=3, patch_size=8, stride=8, image_size=(32, 32),
                                             d_state=4, d_conv=3, expand=3, dt_rank=3, num_classes=7,
                                             middle_cls_token=False, divide_out=False),
    "official Tiny": None,
}


def extract(git_dir: str, rev: str, root: str) -> None:
    for source, target in FILES.items():
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{rev}:{source}"], check=True,
                              capture_output=True, text=True).stdout
        path = os.path.join(root, target)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def install_stubs(root: str) -> None:
    """Packages without their __init__ (mamba_ssm's imports the language model), the utilities the
    forward pass never calls, and the CUDA extensions as the official reference math."""
    for name in ("mamba_ssm", "mamba_ssm.modules", "mamba_ssm.ops", "mamba_ssm.ops.triton", "mamba_ssm.utils"):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(root, *name.split("."))]
        sys.modules[name] = package
    generation = types.ModuleType("mamba_ssm.utils.generation")
    generation.GenerationMixin = object
    hf = types.ModuleType("mamba_ssm.utils.hf")
    hf.load_config_hf = hf.load_state_dict_hf = None
    sys.modules.update({"mamba_ssm.utils.generation": generation, "mamba_ssm.utils.hf": hf})

    def causal_conv1d_fwd(x, weight, bias, *rest):
        silu = rest[-1]
        y = F.conv1d(x, weight.unsqueeze(1), bias, padding=weight.shape[-1] - 1, groups=x.shape[1])[..., :x.shape[-1]]
        return F.silu(y) if silu else y

    conv_cuda = types.ModuleType("causal_conv1d_cuda")
    conv_cuda.causal_conv1d_fwd = causal_conv1d_fwd
    conv = types.ModuleType("causal_conv1d")
    conv.causal_conv1d_fn = conv.causal_conv1d_update = None
    scan_cuda = types.ModuleType("selective_scan_cuda")

    def scan_fwd(u, delta, A, B, C, D, z, delta_bias, delta_softplus):
        interface = sys.modules["mamba_ssm.ops.selective_scan_interface"]
        out_z = interface.selective_scan_ref(u, delta, A, B, C, D, z=z, delta_bias=delta_bias, delta_softplus=delta_softplus)
        return None, None, out_z

    scan_cuda.fwd = scan_fwd
    sys.modules.update({"causal_conv1d_cuda": conv_cuda, "causal_conv1d": conv, "selective_scan_cuda": scan_cuda})


def load_official(root: str):
    install_stubs(root)
    sys.path.insert(0, root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # timm's moved modules, torch.cuda.amp's deprecated decorators
        import models_mamba
        from mamba_ssm.ops.triton import layer_norm

    def rms_norm_fn(x, weight, bias, residual=None, eps=1e-6, prenorm=False, residual_in_fp32=False, **_):
        return layer_norm.rms_norm_ref(x, weight, bias, residual=residual, eps=eps, prenorm=prenorm)

    models_mamba.rms_norm_fn = rms_norm_fn
    return models_mamba


def official_model(models_mamba, config: dict):
    return models_mamba.VisionMamba(
        img_size=config["image_size"][0], patch_size=config["patch_size"], stride=config["stride"],
        depth=config["depth"], embed_dim=config["embed_dim"], d_state=config["d_state"], channels=config["in_chans"],
        num_classes=config["num_classes"], ssm_cfg=dict(d_conv=config["d_conv"], expand=config["expand"],
                                                        dt_rank=config["dt_rank"]),
        norm_epsilon=config["norm_eps"], rms_norm=True, fused_add_norm=True, residual_in_fp32=True,
        final_pool_type="mean", if_abs_pos_embed=True, bimamba_type="v2", if_cls_token=True,
        if_divide_out=config["divide_out"], use_middle_cls_token=config["middle_cls_token"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vim", required=True, help="git directory of hustvl/Vim")
    ap.add_argument("--rev", default="HEAD")
    # The official code runs A, D, the delta bias and the scan in float32 (`.float()`) even in a
    # float64 model, so the two agree to about 1e-8, not to float64 precision.
    ap.add_argument("--tolerance", type=float, default=1e-6)
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    failed = False
    with tempfile.TemporaryDirectory(prefix="vim-official-") as root:
        extract(args.vim, args.rev, root)
        models_mamba = load_official(root)
        for index, (name, overrides) in enumerate(CASES.items()):
            if name not in args.cases:
                continue
            if overrides is None:
                config = ref.registered_config(list(ref.CONFIGS)[0])
            else:
                config = ref.make_config(**overrides)
            if config["image_size"][0] != config["image_size"][1]:
                # VisionMamba takes a square img_size; PatchEmbed sizes from it.
                config["image_size"] = [config["image_size"][0]] * 2
            weights = ref.random_weights(config, seed=index)
            model = official_model(models_mamba, config).double().eval()
            model.load_state_dict({k: v.double() for k, v in weights.items()}, strict=True)
            pixels = torch.randn(2, 3, *config["image_size"], generator=torch.Generator().manual_seed(index),
                                 dtype=torch.float64)
            with torch.no_grad():
                official = model(pixels)
                mirror = ref.forward(config, {k: v.double() for k, v in weights.items()}, pixels)
            error = ((official - mirror).abs().max() / official.abs().max()).item()
            failed |= not error <= args.tolerance
            print(f"{name}: official vs vim_reference, max |err| / max |logit| = {error:.2e} "
                  f"(max |logit| {official.abs().max().item():.3f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

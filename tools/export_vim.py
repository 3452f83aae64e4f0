#!/usr/bin/env python3
"""Export an official Vision Mamba checkpoint (hustvl/Vim) to an Onboard bundle.

  /work/venv/bin/python tools/export_vim.py CHECKPOINT.pth OUT_DIR --config vim_tiny_patch16_224_bimambav2_final_pool_mean_abs_pos_embed_with_midclstok_div2
  /work/venv/bin/python tools/export_vim.py CHECKPOINT.pth OUT_DIR --embed-dim 192 [--depth 24 --stride 8 ...]
  /work/venv/bin/python tools/export_vim.py --self-test

CHECKPOINT.pth: a torch checkpoint with the state dict under "model" (as the official
checkpoints and MambaQuant load them), or the state dict itself. It is read with
`weights_only=True` (argparse.Namespace, which the training scripts store under "args", is
allowed); --trust-checkpoint unpickles it fully (only for files you trust).

The config is the registered model's (--config NAME, see vim_reference.CONFIGS; MambaQuant's
"tinyplus"/"smallplus" names are accepted) or VisionMamba's defaults with the dimensions given;
a dimension given with --config overrides it. Every tensor of the official state dict must be
present with its shape (nothing else may be), checked before anything is written. OUT_DIR
receives config.json (architecture "vim") and model.safetensors (float32, official names).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onboard_bundle import load_bundle, write_json, write_safetensors  # noqa: E402
from vim_reference import CONFIGS, forward, make_config, parameter_shapes, random_weights, registered_config  # noqa: E402

DIMENSIONS = ("embed_dim", "depth", "patch_size", "stride", "in_chans", "d_state", "d_conv", "expand", "dt_rank",
              "num_classes")


class ExportError(Exception):
    pass


def load_state(checkpoint: str, trust: bool) -> dict[str, torch.Tensor]:
    """checkpoint["model"] (or the checkpoint itself) as a name -> tensor dict."""
    try:
        if trust:
            ckpt = torch.load(checkpoint, map_location="cpu", weights_only=False)
        else:
            with torch.serialization.safe_globals([argparse.Namespace]):
                ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ExportError(f"{checkpoint}: no such file")
    except Exception as e:  # an unpickling refusal names the global it met
        hint = "" if trust else " (if you trust the file, --trust-checkpoint loads it fully)"
        raise ExportError(f"{checkpoint}: cannot be read as a torch checkpoint: {e}{hint}")
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ExportError(f"{checkpoint}: no state dict of tensors (expected checkpoint['model'])")
    return state


def config_from_arguments(args) -> dict:
    given = {k: getattr(args, k) for k in DIMENSIONS if getattr(args, k) is not None}
    if args.img_size is not None:
        given["image_size"] = (args.img_size, args.img_size)
    if args.config:
        try:
            config = registered_config(args.config)
        except KeyError as e:
            raise ExportError(str(e.args[0]))
        if "embed_dim" in given and "dt_rank" not in given:
            raise ExportError("--embed-dim with --config: give --dt-rank too (the registered one follows the config's width)")
        config.update(given)
        return config
    if "embed_dim" not in given:
        raise ExportError("give --config NAME or at least --embed-dim")
    return make_config(**given, source="hustvl/Vim:VisionMamba")


def check_state(state: dict[str, torch.Tensor], config: dict, checkpoint: str) -> dict[str, torch.Tensor]:
    """The state dict as float32, after checking it holds exactly the official tensors."""
    expected = parameter_shapes(config)
    missing = [n for n in expected if n not in state]
    extra = [n for n in state if n not in expected]
    if missing:
        raise ExportError(f"{checkpoint}: {len(missing)} tensors missing for this config: {', '.join(missing[:5])}"
                          + (", ..." if len(missing) > 5 else ""))
    if extra:
        raise ExportError(f"{checkpoint}: {len(extra)} tensors not in this config: {', '.join(extra[:5])}"
                          + (", ..." if len(extra) > 5 else ""))
    for name, shape in expected.items():
        if tuple(state[name].shape) != shape:
            raise ExportError(f"{checkpoint}: {name}: shape {tuple(state[name].shape)}, config expects {shape}")
        if not state[name].is_floating_point():
            raise ExportError(f"{checkpoint}: {name}: dtype {state[name].dtype} is not a float type")
    return {name: state[name].detach().float().contiguous() for name in expected}


def export(checkpoint: str, out_dir: str, config: dict, trust: bool = False) -> dict:
    tensors = check_state(load_state(checkpoint, trust), config, checkpoint)
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    write_json(os.path.join(out_dir, "config.json"), config)
    return config


def self_test() -> None:
    """A random small checkpoint in the official layout (with training-script extras) round-trips,
    its reference forward is unchanged, and malformed checkpoints are refused by name."""
    config = make_config(embed_dim=32, depth=2, patch_size=16, stride=8, image_size=(48, 32), num_classes=10)
    weights = random_weights(config, seed=3)
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "checkpoint.pth")
        torch.save({"model": weights, "epoch": 3, "args": argparse.Namespace(model="vim_test")}, path)
        export(path, os.path.join(work, "bundle"), dict(config))
        written, tensors = load_bundle(os.path.join(work, "bundle"))
        assert written == config, "config.json differs from the config"
        assert set(tensors) == set(weights) and all(torch.equal(tensors[k], weights[k]) for k in weights)
        x = torch.randn(1, 3, 48, 32, generator=torch.Generator().manual_seed(0))
        # Not bit-equal: torch's kernels may take other paths on the file's memory alignment.
        assert torch.allclose(forward(config, tensors, x), forward(config, weights, x), rtol=1e-5, atol=1e-6)
        for edit, message in [
            (lambda w: w.pop("layers.1.mixer.A_b_log"), "tensors missing for this config: layers.1.mixer.A_b_log"),
            (lambda w: w.update({"layers.0.mixer.D": torch.ones(3)}), "layers.0.mixer.D: shape (3,), config expects (64,)"),
            (lambda w: w.update({"rope.freqs": torch.ones(3)}), "tensors not in this config: rope.freqs"),
        ]:
            broken = dict(weights)
            edit(broken)
            torch.save({"model": broken}, path)
            try:
                export(path, os.path.join(work, "broken"), dict(config))
            except ExportError as e:
                assert message in str(e), f"{e!s} lacks {message!r}"
            else:
                raise AssertionError(f"accepted a checkpoint with {message}")
    for name in CONFIGS:
        registered_config(name)
    print("export_vim self-test: ok")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", nargs="?")
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("--config", help="registered model name (vim_reference.CONFIGS)")
    ap.add_argument("--img-size", type=int, help="square input size (default 224)")
    for name in DIMENSIONS:
        ap.add_argument("--" + name.replace("_", "-"), type=int, dest=name)
    ap.add_argument("--trust-checkpoint", action="store_true", help="unpickle the checkpoint fully (trusted files only)")
    ap.add_argument("--self-test", action="store_true", help="round-trip a random small checkpoint and exit")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.checkpoint or not args.out_dir:
        ap.error("CHECKPOINT and OUT_DIR are required")
    try:
        config = export(args.checkpoint, args.out_dir, config_from_arguments(args), args.trust_checkpoint)
    except ExportError as e:
        raise SystemExit(f"error: {e}")
    print(f"wrote {args.out_dir}: vim {config['image_size'][0]}x{config['image_size'][1]} D={config['embed_dim']} "
          f"depth={config['depth']} patch={config['patch_size']} stride={config['stride']} classes={config['num_classes']}")


if __name__ == "__main__":
    sys.exit(main())

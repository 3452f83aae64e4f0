#!/usr/bin/env python3
"""Cross-check tools/petr_reference.py against the OFFICIAL PETR head code, executed.

  /work/venv/bin/python tools/check_petr_official.py --petr PETR_GIT_DIR --mmcv MMCV_GIT_DIR

PETR_GIT_DIR is a git directory of megvii-research/PETR (read at --petr-rev, default HEAD),
MMCV_GIT_DIR one of open-mmlab/mmcv (read at --mmcv-rev, default v1.4.0, the version PETR
pins). Their source files are read with `git show` into a temporary directory and imported
there, never copied into this repository:

  PETR: models/dense_heads/petr_head.py, models/utils/{petr_transformer,positional_encoding}.py,
        core/bbox/coders/nms_free_coder.py, core/bbox/{util,array_converter}.py
  mmcv: mmcv/cnn/bricks/transformer.py (MultiheadAttention, FFN, BaseTransformerLayer,
        TransformerLayerSequence)

The rest of mmcv / mmdet / mmdet3d that those files import (registries, builders, LayerNorm /
ReLU / Dropout factories, mmdet's inverse_sigmoid, the loss and assigner builders the head only
needs for training) is replaced by small stubs written below.

The official head is built from the official vov-p4-800x320 head config with smaller counts
(2 decoder layers, 30 queries, depth 8; embed 256 / 8 heads / FFN 2048 as the official code
hard-codes), given random weights, and run in eval mode on random features with lidar2img from
Sensors/nuscenes-6cam.json; the mirror gets the same weights (loaded from a checkpoint that uses
the OLD names, as export_petr.py handles them, through the official `_load_from_state_dict`
renaming for the official head) and must agree on all_cls_scores, all_bbox_preds (every layer)
and the decoded boxes to 1e-4 relative.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petr_reference as ref  # noqa: E402

PLUGIN = "projects/mmdet3d_plugin"
PETR_FILES = [
    f"{PLUGIN}/models/dense_heads/petr_head.py",
    f"{PLUGIN}/models/utils/petr_transformer.py",
    f"{PLUGIN}/models/utils/positional_encoding.py",
    f"{PLUGIN}/core/bbox/coders/nms_free_coder.py",
    f"{PLUGIN}/core/bbox/util.py",
    f"{PLUGIN}/core/bbox/array_converter.py",
]
MMCV_FILES = ["mmcv/cnn/bricks/transformer.py"]

STUBS = {
    "mmcv/__init__.py": "from .utils import ConfigDict, deprecated_api_warning\n",
    "mmcv/utils/__init__.py": """
        import functools
        class ConfigDict(dict):
            def __getattr__(self, name):
                try:
                    return self[name]
                except KeyError:
                    raise AttributeError(name)
        def deprecated_api_warning(name_dict, cls_name=None):
            def wrap(f):
                return f
            return wrap
        def to_2tuple(x):
            return x if isinstance(x, tuple) else (x, x)
        class Registry:
            def __init__(self, name):
                self.name, self.modules = name, {}
            def register_module(self, name=None, force=False, module=None):
                def wrap(cls):
                    self.modules[name or cls.__name__] = cls
                    return cls
                return wrap
            def get(self, key):
                return self.modules[key]
            def build(self, cfg, default_args=None):
                return build_from_cfg(cfg, self, default_args)
        def build_from_cfg(cfg, registry, default_args=None):
            args = dict(cfg)
            if default_args:
                for k, v in default_args.items():
                    args.setdefault(k, v)
            t = args.pop('type')
            return registry.get(t)(**args)
    """,
    "mmcv/cnn/__init__.py": """
        import torch.nn as nn
        from torch.nn import Conv2d, Linear
        def build_activation_layer(cfg):
            assert cfg['type'] == 'ReLU', cfg
            return nn.ReLU(inplace=cfg.get('inplace', False))
        def build_norm_layer(cfg, num_features, postfix=''):
            assert cfg['type'] == 'LN', cfg
            return 'ln', nn.LayerNorm(num_features, eps=cfg.get('eps', 1e-5))
        def build_conv_layer(*a, **k):
            raise NotImplementedError
        def xavier_init(*a, **k):
            pass
        def constant_init(*a, **k):
            pass
        def kaiming_init(*a, **k):
            pass
        def bias_init_with_prob(p):
            return 0.0
    """,
    "mmcv/cnn/bricks/__init__.py": "",
    "mmcv/cnn/bricks/registry.py": """
        from mmcv.utils import Registry
        ATTENTION = Registry('attention')
        FEEDFORWARD_NETWORK = Registry('ffn')
        POSITIONAL_ENCODING = Registry('pe')
        TRANSFORMER_LAYER = Registry('layer')
        TRANSFORMER_LAYER_SEQUENCE = Registry('sequence')
    """,
    "mmcv/cnn/bricks/drop.py": """
        import torch.nn as nn
        def build_dropout(cfg, default_args=None):
            return nn.Dropout(cfg.get('drop_prob', 0.0)) if cfg else nn.Identity()
    """,
    "mmcv/runner/__init__.py": """
        from .base_module import BaseModule
        def force_fp32(*a, **k):
            def wrap(f):
                return f
            return wrap
        def auto_fp16(*a, **k):
            def wrap(f):
                return f
            return wrap
    """,
    "mmcv/runner/base_module.py": """
        import torch.nn as nn
        class BaseModule(nn.Module):
            def __init__(self, init_cfg=None):
                super().__init__()
                self.init_cfg = init_cfg
        class ModuleList(nn.ModuleList):
            def __init__(self, modules=None, init_cfg=None):
                super().__init__(modules)
        class Sequential(nn.Sequential):
            def __init__(self, *args, init_cfg=None):
                super().__init__(*args)
    """,
    "mmdet/__init__.py": "",
    "mmdet/core/__init__.py": """
        def _unused(*a, **k):
            raise NotImplementedError('training only')
        bbox_cxcywh_to_xyxy = bbox_xyxy_to_cxcywh = build_assigner = build_sampler = _unused
        multi_apply = reduce_mean = _unused
    """,
    "mmdet/core/bbox/__init__.py": "class BaseBBoxCoder:\n    def __init__(self, **kwargs):\n        pass\n",
    "mmdet/core/bbox/builder.py": "from mmcv.utils import Registry\nBBOX_CODERS = Registry('bbox_coder')\n",
    "mmdet/models/__init__.py": """
        from mmcv.utils import Registry
        HEADS = Registry('head')
        class _Loss:
            def __init__(self, cfg):
                self.use_sigmoid = cfg.get('use_sigmoid', False)
        def build_loss(cfg):
            return _Loss(cfg)
    """,
    "mmdet/models/utils/__init__.py": """
        from .builder import TRANSFORMER
        def build_transformer(cfg, default_args=None):
            return TRANSFORMER.build(cfg, default_args)
        class NormedLinear:
            pass
    """,
    "mmdet/models/utils/builder.py": "from mmcv.utils import Registry\nTRANSFORMER = Registry('transformer')\n",
    "mmdet/models/utils/transformer.py": """
        import torch
        def inverse_sigmoid(x, eps=1e-5):
            x = x.clamp(min=0, max=1)
            x1 = x.clamp(min=eps)
            x2 = (1 - x).clamp(min=eps)
            return torch.log(x1 / x2)
    """,
    "mmdet/models/dense_heads/__init__.py": "",
    "mmdet/models/dense_heads/anchor_free_head.py": """
        from mmcv.runner import BaseModule
        class AnchorFreeHead(BaseModule):
            def __init__(self, num_classes, in_channels, init_cfg=None, **kwargs):
                super().__init__(init_cfg)
    """,
    "mmdet3d/__init__.py": "",
    "mmdet3d/core/__init__.py": "",
    "mmdet3d/core/bbox/__init__.py": "",
    "mmdet3d/core/bbox/coders/__init__.py": """
        from mmdet.core.bbox.builder import BBOX_CODERS
        def build_bbox_coder(cfg, **default_args):
            return BBOX_CODERS.build(cfg, default_args)
    """,
    "projects/__init__.py": "",
    f"{PLUGIN}/__init__.py": "",
    f"{PLUGIN}/core/__init__.py": "",
    f"{PLUGIN}/core/bbox/__init__.py": "",
    f"{PLUGIN}/core/bbox/coders/__init__.py": "from .nms_free_coder import NMSFreeCoder\n",
    f"{PLUGIN}/models/__init__.py": "",
    f"{PLUGIN}/models/utils/__init__.py": "from . import positional_encoding, petr_transformer\n",
    f"{PLUGIN}/models/dense_heads/__init__.py": "",
}


def git_show(git_dir: str, rev: str, path: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir if git_dir.endswith(".git") or os.path.exists(os.path.join(git_dir, "HEAD")) else os.path.join(git_dir, ".git"),
                           "show", f"{rev}:{path}"], check=True, capture_output=True, text=True).stdout


def stage(root: str, petr: str, petr_rev: str, mmcv: str, mmcv_rev: str) -> None:
    for path, text in STUBS.items():
        os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(textwrap.dedent(text))
    for path in PETR_FILES:
        with open(os.path.join(root, path), "w") as f:
            f.write(git_show(petr, petr_rev, path))
    for path in MMCV_FILES:
        with open(os.path.join(root, path), "w") as f:
            f.write(git_show(mmcv, mmcv_rev, path))


def official_head_config(layers: int, queries: int, depth: int, max_num: int) -> dict:
    """The vov-p4-800x320 head config (projects/configs/petr/), with smaller counts."""
    pr = [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0]
    pc = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
    return dict(
        num_classes=10, in_channels=256, num_query=queries, LID=True, with_position=True, with_multiview=True,
        depth_num=depth, position_range=pr, normedlinear=False,
        transformer=dict(type="PETRTransformer", decoder=dict(
            type="PETRTransformerDecoder", return_intermediate=True, num_layers=layers,
            transformerlayers=dict(
                type="PETRTransformerDecoderLayer",
                attn_cfgs=[dict(type="MultiheadAttention", embed_dims=256, num_heads=8, dropout=0.1),
                           dict(type="PETRMultiheadAttention", embed_dims=256, num_heads=8, dropout=0.1)],
                feedforward_channels=2048, ffn_dropout=0.1,
                operation_order=("self_attn", "norm", "cross_attn", "norm", "ffn", "norm")))),
        bbox_coder=dict(type="NMSFreeCoder", post_center_range=pr, pc_range=pc, max_num=max_num,
                        voxel_size=[0.2, 0.2, 8], num_classes=10),
        positional_encoding=dict(type="SinePositionalEncoding3D", num_feats=128, normalize=True),
        loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
        loss_bbox=dict(type="L1Loss", loss_weight=0.25), loss_iou=dict(type="GIoULoss", loss_weight=0.0),
        train_cfg=None)


OLD_NAMES = {".attentions.0.": ".self_attn.", ".attentions.1.": ".multihead_attn.", ".decoder.post_norm.": ".decoder.norm."}


def to_old_names(state: dict) -> dict:
    out = {}
    for k, v in state.items():
        for new, old in OLD_NAMES.items():
            k = k.replace(new, old)
        out[k] = v
    return out


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-30)).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--petr", required=True, help="git directory of megvii-research/PETR")
    parser.add_argument("--petr-rev", default="HEAD")
    parser.add_argument("--mmcv", required=True, help="git directory of open-mmlab/mmcv")
    parser.add_argument("--mmcv-rev", default="v1.4.0")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    layers, queries, depth, max_num, cams, fh, fw = 2, 30, 8, 100, 6, 4, 10
    image_size = [64, 160]
    with tempfile.TemporaryDirectory() as root:
        stage(root, args.petr, args.petr_rev, args.mmcv, args.mmcv_rev)
        sys.path.insert(0, root)
        import warnings
        warnings.filterwarnings("ignore")
        importlib.import_module(f"{PLUGIN.replace('/', '.')}.models.utils")
        importlib.import_module(f"{PLUGIN.replace('/', '.')}.core.bbox.coders")
        head_mod = importlib.import_module(f"{PLUGIN.replace('/', '.')}.models.dense_heads.petr_head")
        official = head_mod.PETRHead(**official_head_config(layers, queries, depth, max_num)).eval()

        config = {"architecture": "petr", "num_cameras": cams, "image_size": image_size,
                  "head": {"in_channels": 256, "embed_dims": 256, "num_heads": 8, "ffn_dims": 2048,
                           "num_layers": layers, "num_query": queries, "num_classes": 10, "depth_num": depth,
                           "max_num": max_num}}
        mirror = ref.PETRReference(config, branch_copies=6)
        gen = torch.Generator().manual_seed(args.seed)
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from make_petr_fixtures import random_state
        state = random_state(mirror, gen)
        head_state = {k[len(ref.HEAD):]: v for k, v in state.items()}
        # Same tensor names on both sides (official state_dict == mirror state_dict without the prefix).
        assert set(head_state) == set(official.state_dict()), set(head_state) ^ set(official.state_dict())
        official.load_state_dict(to_old_names(head_state), strict=True)   # the official renaming path
        mirror.load_state_dict(state, strict=True)
        mirror = mirror.double().eval()

        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sensors", "nuscenes-6cam.json")) as f:
            lidar2img = ref.rig_lidar2img(json.load(f), image_size)
        features = torch.randn(cams, 256, fh, fw, generator=gen)
        shape = (image_size[0], image_size[1], 3)
        metas = [{"pad_shape": [shape] * cams, "img_shape": [shape] * cams, "lidar2img": list(lidar2img),
                  "box_type_3d": lambda boxes, size: boxes}]
        with torch.no_grad():
            out = official([features[None]], metas)
            boxes, scores, labels = official.get_bboxes(out, metas)[0]
            mine = mirror(features.double(), lidar2img)
            decoded = ref.nms_free_decode(mine["all_cls_scores"][-1], mine["all_bbox_preds"][-1], mirror.pts_bbox_head.h)

        errors = {
            "all_cls_scores": rel(mine["all_cls_scores"], out["all_cls_scores"][:, 0]),
            "all_bbox_preds": rel(mine["all_bbox_preds"], out["all_bbox_preds"][:, 0]),
        }
        for layer in range(layers):
            errors[f"cls layer {layer}"] = rel(mine["all_cls_scores"][layer], out["all_cls_scores"][layer, 0])
            errors[f"bbox layer {layer}"] = rel(mine["all_bbox_preds"][layer], out["all_bbox_preds"][layer, 0])
        # Decoded boxes as sets keyed by (label, box row); near-tied scores may reorder.
        key_official = {(int(l), tuple(np.round(b.numpy(), 3))): s.item() for b, s, l in zip(boxes, scores, labels)}
        mine_rows = {(int(l), tuple(np.round(b.numpy(), 3))): s.item()
                     for b, s, l in zip(decoded["boxes"].float(), decoded["scores"], decoded["labels"])}
        common = set(key_official) & set(mine_rows)
        errors["decoded boxes matched"] = 1 - len(common) / max(len(key_official), 1)
        print(f"official: {len(key_official)} boxes, mirror: {len(mine_rows)} boxes, matched {len(common)}")
        for k, v in errors.items():
            print(f"{k:24s} {v:.2e}")
        worst = max(v for k, v in errors.items() if k != "decoded boxes matched")
        if worst > 1e-4 or len(common) < len(key_official) - 2:
            sys.exit("MISMATCH between the official head and petr_reference.py")
        print("petr_reference.py agrees with the official PETR head")


if __name__ == "__main__":
    main()

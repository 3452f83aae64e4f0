#!/usr/bin/env python3
"""Export an official PETR checkpoint (megvii-research/PETR, mmdet3d 0.17) to an Onboard bundle.

  /work/venv/bin/python tools/export_petr.py CHECKPOINT.pth CONFIG.py OUT_DIR [--num-cameras 6]
  /work/venv/bin/python tools/export_petr.py --self-test

CHECKPOINT.pth: a torch checkpoint; the state dict is under 'state_dict' (mmcv) or is the file
itself. Head tensors written with the pre-version-2 names are renamed as the official
`PETRHead._load_from_state_dict` does: `.self_attn.` -> `.attentions.0.`, `.multihead_attn.` ->
`.attentions.1.`, `.decoder.norm.` -> `.decoder.post_norm.`. Kept: `img_backbone.*`, `img_neck.*`,
`pts_bbox_head.*` (BatchNorm `num_batches_tracked` counters dropped), as float32.

CONFIG.py: the mmdet config the checkpoint was trained with (projects/configs/petr/*.py). It is
read without executing it: module-level assignments are evaluated from the syntax tree
(literals, names, dict(...), + - * / on numbers and lists); `_base_` files are not read (the
PETR configs define the model, image sizes and normalization themselves).

OUT_DIR receives config.json (architecture "petr", see /work/petr-design.md) and
model.safetensors. Head tensor shapes are checked against the config before anything is written.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onboard_bundle import write_json, write_safetensors  # noqa: E402

HEAD = "pts_bbox_head."
KEEP_PREFIXES = ("img_backbone.", "img_neck.", HEAD)
OLD_TO_NEW = {".self_attn.": ".attentions.0.", ".multihead_attn.": ".attentions.1.", ".decoder.norm.": ".decoder.post_norm."}
OPERATION_ORDER = ("self_attn", "norm", "cross_attn", "norm", "ffn", "norm")
# PETRHead's signature defaults (used when the config leaves a field out).
HEAD_DEFAULTS = dict(num_query=100, depth_num=64, depth_start=1, LID=False, with_position=True, with_multiview=False,
                     position_range=[-65, -65, -8.0, 65, 65, 8.0], normedlinear=False)


class ExportError(Exception):
    pass


# ----------------------------------------------------------------------------
# Reading an mmdet config without executing it


class _Unsupported:
    def __init__(self, why: str):
        self.why = why

    def __repr__(self):
        return f"<not evaluated: {self.why}>"


def _evaluate(node: ast.AST, env: dict):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(e, env) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                out.update(_evaluate(v, env))
            else:
                out[_evaluate(k, env)] = _evaluate(v, env)
        return out
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise ExportError(f"unknown name '{node.id}'")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        out = {}
        for kw in node.keywords:
            if kw.arg is None:
                out.update(_evaluate(kw.value, env))
            else:
                out[kw.arg] = _evaluate(kw.value, env)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        v = _evaluate(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else (+v if isinstance(node.op, ast.UAdd) else not v)
    if isinstance(node, ast.BinOp):
        a, b = _evaluate(node.left, env), _evaluate(node.right, env)
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
               ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b}
        if type(node.op) in ops:
            return ops[type(node.op)]()
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr == "pi":
        return math.pi
    raise ExportError(f"unsupported expression {ast.dump(node)[:60]}")


def read_mmdet_config(path: str) -> dict:
    """Module-level assignments of an mmdet config, evaluated from the syntax tree; values that
    are not plain data become _Unsupported (an error only if the exporter needs them)."""
    with open(path) as f:
        tree = ast.parse(f.read(), filename=path)
    env: dict = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            try:
                env[stmt.targets[0].id] = _evaluate(stmt.value, env)
            except (ExportError, TypeError, ZeroDivisionError) as e:
                env[stmt.targets[0].id] = _Unsupported(str(e))
    return env


def _need(mapping, key: str, where: str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise ExportError(f"config: {where}.{key} is missing")
    value = mapping[key]
    if isinstance(value, _Unsupported):
        raise ExportError(f"config: {where}.{key} could not be read ({value.why})")
    return value


# ----------------------------------------------------------------------------
# config.json


def backbone_json(cfg: dict | None) -> dict | None:
    if cfg is None:
        return None
    kind = _need(cfg, "type", "model.img_backbone")
    if kind == "VoVNetCP":
        return {"type": "vovnet", "spec": _need(cfg, "spec_name", "model.img_backbone"),
                "out_features": list(cfg.get("out_features", ["stage4", "stage5"])),
                "in_channels": cfg.get("input_ch", 3)}
    if kind == "ResNet":
        out = {"type": "resnet", "depth": _need(cfg, "depth", "model.img_backbone"),
               "out_indices": list(cfg.get("out_indices", [0, 1, 2, 3])), "style": cfg.get("style", "pytorch"),
               "stem_channels": cfg.get("stem_channels") or cfg.get("base_channels", 64),
               "base_channels": cfg.get("base_channels", 64), "frozen_bn_eps": 1e-5}
        if cfg.get("strides") is not None:
            out["strides"] = list(cfg["strides"])
        if cfg.get("dilations") is not None:
            out["dilations"] = list(cfg["dilations"])
        dcn = cfg.get("dcn")
        if dcn is not None:
            if dcn.get("type") != "DCNv2" or dcn.get("fallback_on_stride", False):
                raise ExportError(f"config: model.img_backbone.dcn {dcn} is not supported (DCNv2 without fallback_on_stride)")
            out["stage_with_dcn"] = list(cfg.get("stage_with_dcn", [False, False, False, False]))
            out["deform_groups"] = dcn.get("deform_groups", 1)
        return out
    raise ExportError(f"config: backbone type '{kind}' is not supported (VoVNetCP or ResNet)")


def neck_json(cfg: dict | None) -> dict | None:
    if cfg is None:
        return None
    kind = _need(cfg, "type", "model.img_neck")
    if kind != "CPFPN":
        raise ExportError(f"config: neck type '{kind}' is not supported (CPFPN)")
    in_channels = list(_need(cfg, "in_channels", "model.img_neck"))
    return {"type": "cpfpn", "in_channels": in_channels, "out_channels": _need(cfg, "out_channels", "model.img_neck"),
            "num_outs": cfg.get("num_outs", len(in_channels))}


def image_size(env: dict) -> tuple[list[int], list[int] | None]:
    """Padded network input [H, W] (final_dim of ida_aug_conf padded to the pipeline's size_divisor)
    and the source image size [H, W]."""
    ida = env.get("ida_aug_conf")
    if not isinstance(ida, dict) or "final_dim" not in ida:
        raise ExportError("config: ida_aug_conf.final_dim (the network input size) is missing")
    h, w = ida["final_dim"]
    divisor = 32
    for step in env.get("test_pipeline", []) if isinstance(env.get("test_pipeline"), list) else []:
        if isinstance(step, dict) and step.get("type") == "PadMultiViewImage":
            divisor = step.get("size_divisor", divisor)
    pad = lambda v: int(math.ceil(v / divisor) * divisor)  # noqa: E731
    source = [ida["H"], ida["W"]] if "H" in ida and "W" in ida else None
    return [pad(h), pad(w)], source


def make_config(env: dict, num_cameras: int) -> dict:
    model = _need(env, "model", "")
    head = _need(model, "pts_bbox_head", "model")
    where = "model.pts_bbox_head"
    if head.get("type") != "PETRHead":
        raise ExportError(f"config: {where}.type is '{head.get('type')}', only PETRHead is supported")
    h = dict(HEAD_DEFAULTS, **head)
    if not h["with_position"] or not h["with_multiview"]:
        raise ExportError(f"config: {where} needs with_position=True and with_multiview=True (the official PETR configs)")
    if h["normedlinear"]:
        raise ExportError(f"config: {where}.normedlinear=True is not supported")
    decoder = _need(_need(h, "transformer", where), "decoder", f"{where}.transformer")
    if not decoder.get("return_intermediate", False):
        raise ExportError(f"config: {where}.transformer.decoder.return_intermediate must be True")
    layer = _need(decoder, "transformerlayers", f"{where}.transformer.decoder")
    order = tuple(_need(layer, "operation_order", "transformerlayers"))
    if order != OPERATION_ORDER:
        raise ExportError(f"config: operation_order {order} is not {OPERATION_ORDER}")
    attn = _need(layer, "attn_cfgs", "transformerlayers")
    attn = attn if isinstance(attn, list) else [attn, attn]
    embed, heads = attn[0]["embed_dims"], attn[0]["num_heads"]
    if any(a["embed_dims"] != embed or a["num_heads"] != heads for a in attn):
        raise ExportError("config: the two attentions differ in embed_dims / num_heads")
    ffn = layer.get("feedforward_channels") or (layer.get("ffn_cfgs") or {}).get("feedforward_channels")
    if ffn is None:
        raise ExportError("config: transformerlayers.feedforward_channels is missing")
    pe = h.get("positional_encoding", {})
    if pe.get("type", "SinePositionalEncoding3D") != "SinePositionalEncoding3D" or pe.get("num_feats", embed // 2) * 2 != embed:
        raise ExportError(f"config: positional_encoding must be SinePositionalEncoding3D with num_feats = embed_dims / 2 ({embed // 2})")
    coder = _need(h, "bbox_coder", where)
    if coder.get("type") != "NMSFreeCoder":
        raise ExportError(f"config: bbox_coder type '{coder.get('type')}' is not NMSFreeCoder")
    loss = h.get("loss_cls", {})
    if not loss.get("use_sigmoid", False):
        raise ExportError("config: loss_cls.use_sigmoid must be True (sigmoid classes, no background logit)")
    num_classes = _need(h, "num_classes", where)
    size, source = image_size(env)
    norm = env.get("img_norm_cfg") if isinstance(env.get("img_norm_cfg"), dict) else None
    config = {
        "architecture": "petr",
        "num_cameras": num_cameras,
        "image_size": size,
        "backbone": backbone_json(model.get("img_backbone")),
        "neck": neck_json(model.get("img_neck")),
        "head": {
            "in_channels": _need(h, "in_channels", where), "embed_dims": embed, "num_heads": heads, "ffn_dims": ffn,
            "num_layers": _need(decoder, "num_layers", f"{where}.transformer.decoder"),
            "num_query": h["num_query"], "num_classes": num_classes,
            "depth_num": h["depth_num"], "depth_start": float(h["depth_start"]), "lid": bool(h["LID"]),
            "position_range": [float(v) for v in h["position_range"]],
            "pc_range": [float(v) for v in _need(coder, "pc_range", "bbox_coder")],
            "max_num": coder.get("max_num", 100),
            "post_center_range": None if coder.get("post_center_range") is None else [float(v) for v in coder["post_center_range"]],
            "score_threshold": coder.get("score_threshold"),
            "layer_norm_eps": 1e-5,
            "pe": "petr",
        },
    }
    if norm is not None:
        config["preprocess"] = {"source_size": source, "mean": list(norm["mean"]), "std": list(norm["std"]),
                                "to_rgb": bool(norm.get("to_rgb", True))}
    names = env.get("class_names")
    if isinstance(names, list):
        if len(names) != num_classes:
            raise ExportError(f"config: {len(names)} class_names for num_classes {num_classes}")
        config["class_names"] = names
    return config


# ----------------------------------------------------------------------------
# Tensors


def convert_state(state: dict) -> tuple[dict, list[str]]:
    """Renamed float32 tensors to keep, and the names dropped."""
    out, dropped = {}, []
    for name, value in state.items():
        key = name[len("module."):] if name.startswith("module.") else name
        if not key.startswith(KEEP_PREFIXES) or key.endswith("num_batches_tracked") or not torch.is_tensor(value):
            dropped.append(name)
            continue
        if key.startswith(HEAD):
            for old, new in OLD_TO_NEW.items():
                key = key.replace(old, new)
        if key in out:
            raise ExportError(f"checkpoint: two tensors map to '{key}'")
        out[key] = value.detach().to(torch.float32).contiguous()
    return out, dropped


def check_head_shapes(tensors: dict, config: dict) -> None:
    h = config["head"]
    e, q, d, c = h["embed_dims"], h["num_query"], h["depth_num"], h["num_classes"]
    expected = {
        "input_proj.weight": (e, h["in_channels"], 1, 1),
        "reference_points.weight": (q, 3),
        "position_encoder.0.weight": (4 * e, 3 * d, 1, 1),
        "adapt_pos3d.0.weight": (4 * e, 3 * e // 2, 1, 1),
        "query_embedding.0.weight": (e, 3 * e // 2),
        "transformer.decoder.post_norm.weight": (e,),
        f"transformer.decoder.layers.{h['num_layers'] - 1}.attentions.1.attn.in_proj_weight": (3 * e, e),
        f"transformer.decoder.layers.{h['num_layers'] - 1}.ffns.0.layers.0.0.weight": (h["ffn_dims"], e),
        "cls_branches.0.6.weight": (c, e),
        "reg_branches.0.4.weight": (10, e),
    }
    for name, shape in expected.items():
        t = tensors.get(HEAD + name)
        if t is None:
            raise ExportError(f"checkpoint: {HEAD}{name} is missing (expected {list(shape)})")
        if tuple(t.shape) != shape:
            raise ExportError(f"checkpoint: {HEAD}{name} has shape {list(t.shape)}, the config implies {list(shape)}")
    extra = f"{HEAD}transformer.decoder.layers.{h['num_layers']}.norms.0.weight"
    if extra in tensors:
        raise ExportError(f"checkpoint: has more decoder layers than the config's num_layers {h['num_layers']}")


def export(checkpoint: str, config_path: str, out_dir: str, num_cameras: int = 6, recipe: str | None = None) -> dict:
    config = make_config(read_mmdet_config(config_path), num_cameras)
    if recipe:
        config["recipe"] = recipe
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ExportError(f"{checkpoint}: no state dict")
    tensors, dropped = convert_state(state)
    check_head_shapes(tensors, config)
    if config["backbone"] is None and any(k.startswith("img_backbone.") for k in tensors):
        raise ExportError("checkpoint has img_backbone tensors but the config has no img_backbone")
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    write_json(os.path.join(out_dir, "config.json"), config)
    print(f"{out_dir}: {len(tensors)} tensors written, {len(dropped)} dropped"
          + (f" ({', '.join(dropped[:3])}{', ...' if len(dropped) > 3 else ''})" if dropped else ""))
    return config


# ----------------------------------------------------------------------------
# Self-test on a synthetic old-name checkpoint


SELF_TEST_CONFIG = '''
_base_ = [
    '../../../mmdetection3d/configs/_base_/datasets/nus-3d.py',
    '../../../mmdetection3d/configs/_base_/default_runtime.py'
]
plugin = True
point_cloud_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
img_norm_cfg = dict(mean=[103.530, 116.280, 123.675], std=[57.375, 57.120, 58.395], to_rgb=False)
class_names = ['car', 'truck', 'construction_vehicle', 'bus', 'trailer', 'barrier',
               'motorcycle', 'bicycle', 'pedestrian', 'traffic_cone']
model = dict(
    type='Petr3D',
    img_backbone=dict(type='VoVNetCP', spec_name='V-99-eSE', norm_eval=True, frozen_stages=-1, input_ch=3,
                      out_features=('stage4', 'stage5',)),
    img_neck=dict(type='CPFPN', in_channels=[768, 1024], out_channels=16, num_outs=2),
    pts_bbox_head=dict(
        type='PETRHead', num_classes=10, in_channels=16, num_query=20, LID=True, with_position=True,
        with_multiview=True, depth_num=8, position_range=[-61.2, -61.2, -10.0, 61.2, 61.2, 10.0], normedlinear=False,
        transformer=dict(type='PETRTransformer', decoder=dict(
            type='PETRTransformerDecoder', return_intermediate=True, num_layers=2,
            transformerlayers=dict(
                type='PETRTransformerDecoderLayer',
                attn_cfgs=[dict(type='MultiheadAttention', embed_dims=32, num_heads=2, dropout=0.1),
                           dict(type='PETRMultiheadAttention', embed_dims=32, num_heads=2, dropout=0.1)],
                feedforward_channels=64, ffn_dropout=0.1,
                operation_order=('self_attn', 'norm', 'cross_attn', 'norm', 'ffn', 'norm')))),
        bbox_coder=dict(type='NMSFreeCoder', post_center_range=[-61.2, -61.2, -10.0, 61.2, 61.2, 10.0],
                        pc_range=point_cloud_range, max_num=50, voxel_size=[0.2, 0.2, 8], num_classes=10),
        positional_encoding=dict(type='SinePositionalEncoding3D', num_feats=16, normalize=True),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
        loss_bbox=dict(type='L1Loss', loss_weight=0.25), loss_iou=dict(type='GIoULoss', loss_weight=0.0)))
ida_aug_conf = {"resize_lim": (0.47, 0.625), "final_dim": (30, 60), "bot_pct_lim": (0.0, 0.0),
                "rot_lim": (0.0, 0.0), "H": 900, "W": 1600, "rand_flip": True}
test_pipeline = [
    dict(type='LoadMultiViewImageFromFiles', to_float32=True),
    dict(type='NormalizeMultiviewImage', **img_norm_cfg),
    dict(type='PadMultiViewImage', size_divisor=32),
]
optimizer = dict(type='AdamW', lr=2e-4, paramwise_cfg=dict(custom_keys={'img_backbone': dict(lr_mult=0.1)}))
lr_config = dict(policy='CosineAnnealing', min_lr_ratio=1e-3, warmup_ratio=1.0 / 3)
find_unused_parameters = False
load_from = 'ckpts/fcos3d_vovnet_imgbackbone-remapped.pth'
resume_from = None
weird = sorted([3, 1])
'''


def self_test() -> None:
    import petr_reference as ref
    from make_petr_fixtures import random_state

    with tempfile.TemporaryDirectory() as tmp:
        config_path = os.path.join(tmp, "petr_tiny.py")
        with open(config_path, "w") as f:
            f.write(SELF_TEST_CONFIG)
        env = read_mmdet_config(config_path)
        assert isinstance(env["weird"], _Unsupported) and env["lr_config"]["warmup_ratio"] == 1.0 / 3
        expected = make_config(env, num_cameras=2)
        assert expected["image_size"] == [32, 64] and expected["preprocess"]["source_size"] == [900, 1600]
        assert expected["backbone"] == {"type": "vovnet", "spec": "V-99-eSE", "out_features": ["stage4", "stage5"], "in_channels": 3}
        assert expected["neck"] == {"type": "cpfpn", "in_channels": [768, 1024], "out_channels": 16, "num_outs": 2}
        h = expected["head"]
        assert (h["embed_dims"], h["num_heads"], h["ffn_dims"], h["num_layers"], h["num_query"], h["depth_num"], h["lid"],
                h["max_num"]) == (32, 2, 64, 2, 20, 8, True, 50)

        # A head with random weights (6 equal branch copies, as the official state_dict holds),
        # saved with the OLD names plus backbone/neck tensors and BN counters.
        model = ref.PETRReference(expected)
        gen = torch.Generator().manual_seed(5)
        state = random_state(model, gen)
        model.load_state_dict(state)
        old = {}
        for k, v in state.items():
            for o, n in OLD_TO_NEW.items():
                k = k.replace(n, o)
            old[k] = v.half() if k.endswith("reference_points.weight") else v  # a half tensor is widened
        assert any(".self_attn." in k for k in old) and any(".multihead_attn." in k for k in old)
        assert f"{HEAD}transformer.decoder.norm.weight" in old
        old["img_backbone.stem.stem_1/conv.weight"] = torch.randn(64, 3, 3, 3, generator=gen)
        old["img_backbone.stem.stem_1/norm.num_batches_tracked"] = torch.tensor(7)
        old["img_neck.lateral_convs.0.conv.weight"] = torch.randn(16, 768, 1, 1, generator=gen)
        old["some_other_module.weight"] = torch.randn(2)
        checkpoint = os.path.join(tmp, "petr_tiny.pth")
        torch.save({"meta": {"epoch": 24, "CLASSES": tuple(expected["class_names"]), "config": "..."}, "state_dict": old},
                   checkpoint)

        out_dir = os.path.join(tmp, "bundle")
        written = export(checkpoint, config_path, out_dir, num_cameras=2)
        with open(os.path.join(out_dir, "config.json")) as f:
            assert json.load(f) == json.loads(json.dumps(written)) == json.loads(json.dumps(expected))
        from safetensors.torch import load_file
        tensors = load_file(os.path.join(out_dir, "model.safetensors"))
        assert not any(".self_attn." in k or ".multihead_attn." in k or ".decoder.norm." in k for k in tensors)
        assert "img_backbone.stem.stem_1/conv.weight" in tensors and "img_neck.lateral_convs.0.conv.weight" in tensors
        assert not any(k.endswith("num_batches_tracked") or k.startswith("some_other") for k in tensors)
        assert all(t.dtype == torch.float32 for t in tensors.values())

        # The exported bundle computes what the original head computes.
        _, loaded = ref.load_bundle(out_dir, dtype=torch.float64)
        model = model.double().eval()
        model.pts_bbox_head.reference_points.weight.data = model.pts_bbox_head.reference_points.weight.data.half().double()
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sensors", "tiny-2cam.json")) as f:
            lidar2img = ref.rig_lidar2img(json.load(f), expected["image_size"])
        features = torch.randn(2, 16, 4, 8, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            a, b = model(features, lidar2img), loaded(features, lidar2img)
        for key in ("pos_embed", "all_cls_scores", "all_bbox_preds"):
            assert torch.equal(a[key], b[key]), key

        # Errors name what is wrong.
        bad = dict(old)
        bad.pop(f"{HEAD}reference_points.weight")
        torch.save({"state_dict": bad}, checkpoint)
        try:
            export(checkpoint, config_path, os.path.join(tmp, "bad"), num_cameras=2)
            raise AssertionError("missing tensor not reported")
        except ExportError as e:
            assert "reference_points.weight is missing" in str(e), e
    print("export_petr self-test passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", nargs="?")
    parser.add_argument("config", nargs="?")
    parser.add_argument("out_dir", nargs="?")
    parser.add_argument("--num-cameras", type=int, default=6)
    parser.add_argument("--recipe", help="the quantization recipe the model was made for (a name in Configs/recipes/, "
                        "e.g. qpetr-int8); written to config.json, used by quantize and validate by default")
    parser.add_argument("--self-test", action="store_true", help="export a synthetic old-name checkpoint and check it")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    if not (args.checkpoint and args.config and args.out_dir):
        parser.error("CHECKPOINT CONFIG OUT_DIR are required (or --self-test)")
    try:
        export(args.checkpoint, args.config, args.out_dir, args.num_cameras, args.recipe)
    except ExportError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()

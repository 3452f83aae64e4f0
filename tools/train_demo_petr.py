#!/usr/bin/env python3
"""Train the demo PETR (ViT backbone) on synthetic sets made by `onboard synth`; export a bundle.

Seeded and resumable: a checkpoint (model, optimiser, iteration, RNG) is written atomically every
--save-every iterations, and a run given the same --work directory continues from it. What makes a
from-scratch PETR tractable on a CPU (docs: ../shared/reference/demo-training-feasibility.md):
query denoising (StreamPETR's noisy-reference groups), dense auxiliary supervision of the backbone
(class-centre heatmaps and log depth at the projected box centres, free from the renderer's
boxes), a 128x320 input with stride-16 tokens, and a cosine schedule. Auxiliary heads are dropped
at export: the bundle is a standard PETR graph.

Staged recipe of the shipped demo models (Configs/models/petr-demo/README.md lists what was run):
  # 1. backbone + head with the dense auxiliary losses
  python tools/train_demo_petr.py --data TRAIN_SET --work W1 --iters 11000 --stop-at 2750 --batch 2 --lr 5e-4
  # 2. head alone on the frozen backbone's cached features (about 3x the samples per second)
  python tools/train_demo_petr.py --data TRAIN_SET --work W2 --stage head --init-from W1/checkpoint.pt --iters 6500 --batch 4
  # 3. Q-PETR: the same head with QFPE instead of the official position embedding, from stage 2
  python tools/train_demo_petr.py --data TRAIN_SET --work W3 --stage head --pe qfpe --init-from W2/checkpoint.pt ...
  # 4. Q-PETR fine-tuned for INT8 (qpetr-demo's stage 5): float and simulated-INT8 losses in one step
  python tools/train_demo_petr.py --data TRAIN_SET --work W4 --stage head --pe qfpe --init-from W3/checkpoint.pt --qat 1 ...
  # Tried, not shipped (docs/experiments/qpetr-demo.md): distillation from the frozen shipped bundle, float and INT8 paths
  python tools/train_demo_petr.py --data TRAIN_SET --work W5 --stage head --pe qfpe --init-from BUNDLE --teacher BUNDLE --qat 3 ...
  #   the same with the simulated INT8 on the executor's calibrated grids (REPORT from onboard validate)
  python tools/train_demo_petr.py ... --teacher BUNDLE --qat 3 --qat-grid REPORT/model-int8/quant.json ...
  python tools/train_demo_petr.py --work W2 --export Configs/models/petr-demo --data HELDOUT_SET --split synth_val
  python tools/train_demo_petr.py --work W2 --data SET --split synth_val --predict RESULTS.json
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_petr import losses, qat  # noqa: E402
from demo_petr.model import DemoPETR, refine_qfpe  # noqa: E402
from demo_petr.nuscenes_set import CLASSES, Crop, Tables, load_sample, normalize_images  # noqa: E402
from demo_petr.vim import vim_backbone_config  # noqa: E402

VIT_BACKBONE = {"type": "vit", "patch_size": 16, "embed_dim": 128, "depth": 4, "num_heads": 4,
                "mlp_hidden_dim": 512, "qkv_bias": True, "layer_norm_eps": 1e-6, "act": "gelu"}
POSITION_RANGE = [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0]
PC_RANGE = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]


def demo_config(pe, qfpe_grid="dense", backbone="vit"):
    head = {
        "in_channels": 128, "embed_dims": 128, "num_heads": 4, "ffn_dims": 512, "num_layers": 3,
        "num_query": 200, "num_classes": 10, "depth_num": 32, "depth_start": 1.0, "lid": True,
        "position_range": POSITION_RANGE, "pc_range": PC_RANGE, "max_num": 300,
        "post_center_range": POSITION_RANGE, "score_threshold": None, "layer_norm_eps": 1e-5, "pe": pe,
    }
    if pe == "qfpe":
        head["qfpe"] = {"depth": 15.0, "anchors": qfpe_anchors(qfpe_grid)}
    return {
        "architecture": "petr", "num_cameras": 6, "image_size": [128, 320],
        "backbone": vim_backbone_config() if backbone == "vim" else VIT_BACKBONE,
        "neck": None, "head": head,
        "preprocess": {"source_size": [180, 320], "mean": [103.53, 116.28, 123.675],
                       "std": [57.375, 57.12, 58.395], "to_rgb": False},
        "class_names": CLASSES,
    }


def qfpe_anchors(kind):
    """Anchor positions per axis (x, y, z, metres) for QFPE's one point per ray at 15 m.
    coarse: three anchors spanning pc_range (the first Q-PETR demo). dense: a 2 m grid in x/y and
    1 m in z over the span those points actually cover on the demo rig (|x|, |y| < 19 m,
    z in [-6.8, 3.9]); the per-axis hat functions make additive attention logits that softmax turns
    into a localised product. Both grids contain the coarse kinks, so refine_qfpe is exact."""
    if kind == "coarse":
        return [[-51.2, 0.0, 51.2], [-51.2, 0.0, 51.2], [-5.0, -1.0, 3.0]]
    xy = [float(v) for v in range(-20, 21, 2)]
    return [xy, xy, [float(v) for v in range(-7, 6)]]


def refine_from_source_anchors(source, config):
    """A Q-PETR checkpoint with other QFPE anchors starts this run with its embedding refined onto ours."""
    name = "pts_bbox_head.qfpe.weight"
    old = source.get("config", {}).get("head", {}).get("qfpe")
    new = config["head"].get("qfpe")
    if name in source["model"] and old and new and old["anchors"] != new["anchors"]:
        source["model"][name] = refine_qfpe(source["model"][name], old["anchors"], new["anchors"])
        log(f"QFPE embedding refined from anchors {[len(a) for a in old['anchors']]} to {[len(a) for a in new['anchors']]}")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Dataset:
    """All samples of the given sets, images decoded and cropped once (cached as .npz beside nothing in the repo)."""

    def __init__(self, roots, version, split, config, cache_dir):
        crop = Crop(tuple(config["preprocess"]["source_size"]), tuple(config["image_size"]))
        self.images, self.lidar2img, self.boxes, self.labels = [], [], [], []
        for root in roots:
            tables = Tables(root, version)
            tokens = tables.sample_tokens(split)
            cache = os.path.join(cache_dir, os.path.basename(os.path.normpath(root)) + f"-{split or 'all'}.npz")
            if os.path.exists(cache):
                z = np.load(cache, allow_pickle=False)
                imgs = z["images"]
            else:
                imgs = None
            start = time.time()
            batch_imgs = []
            for i, token in enumerate(tokens):
                img, l2i, boxes, labels = load_sample(tables, token, crop, with_images=imgs is None)
                if imgs is None:
                    batch_imgs.append(img)
                self.lidar2img.append(l2i)
                keep = (np.abs(boxes[:, 0]) <= PC_RANGE[3]) & (np.abs(boxes[:, 1]) <= PC_RANGE[4])
                self.boxes.append(boxes[keep]); self.labels.append(labels[keep])
                if (i + 1) % 500 == 0:
                    log(f"data: {root}: {i + 1}/{len(tokens)} samples ({time.time() - start:.0f} s)")
            if imgs is None:
                imgs = np.stack(batch_imgs)
                tmp = cache + ".tmp.npz"
                np.savez(tmp, images=imgs)
                os.replace(tmp, cache)
            self.images.append(imgs)
        self.images = np.concatenate(self.images)
        log(f"data: {len(self.images)} samples, {sum(len(b) for b in self.boxes)} boxes")

    def __len__(self):
        return len(self.images)


def batch(ds, indices, config, generator, with_images=True):
    images = torch.from_numpy(normalize_images(ds.images[indices])) if with_images else None
    l2i = torch.from_numpy(np.stack([ds.lidar2img[i] for i in indices]))
    patch = config["backbone"]["patch_size"]
    feat_hw = (config["image_size"][0] // patch, config["image_size"][1] // patch)
    aux = [losses.centre_heatmap_targets(ds.boxes[i], ds.labels[i], ds.lidar2img[i], feat_hw, config["image_size"], 10)
           for i in indices]
    heat, depth, mask = (torch.from_numpy(np.concatenate([a[k] for a in aux])) for k in range(3))
    gts = [(torch.from_numpy(ds.boxes[i]), torch.from_numpy(ds.labels[i])) for i in indices]
    return images, l2i, gts, (heat, depth, mask)


def training_step(model, images, l2i, gts, aux, args):
    h = model.config["head"]
    b = len(gts)
    per_group = max(1, max(len(l) for _, l in gts))
    groups = args.dn_groups
    dn_refs, dn_info = [], []
    for boxes, labels in gts:
        if len(labels) == 0:
            refs = torch.rand(groups * per_group, 3, generator=args.generator)
            dn_refs.append(refs); dn_info.append(None)
            continue
        refs, gt_index, positive = losses.denoising_queries(boxes, PC_RANGE, groups, args.dn_noise, args.dn_split,
                                                            args.generator)
        # pad each group to per_group queries (padding is ignored by the loss)
        padded = torch.rand(groups, per_group, 3, generator=args.generator)
        padded[:, :len(labels)] = refs.view(groups, len(labels), 3)
        index = torch.full((groups, per_group), -1, dtype=torch.long)
        index[:, :len(labels)] = gt_index.view(groups, len(labels))
        pos = torch.zeros(groups, per_group, dtype=torch.bool)
        pos[:, :len(labels)] = positive.view(groups, len(labels))
        dn_refs.append(padded.view(-1, 3)); dn_info.append((index.view(-1), pos.view(-1)))
    dn_refs = torch.stack(dn_refs)
    mask = losses.denoising_mask(groups, per_group, h["num_query"])
    if args.stage == "head":  # `images` holds cached backbone features [B*N, C, h, w]
        feats = images
        cls, boxes = model.pts_bbox_head(feats, l2i, tuple(model.config["image_size"]), dn_refs, mask)
    else:
        cls, boxes, feats = model(images, l2i, dn_refs, mask)
    nd = groups * per_group
    total_cls, total_reg, num_pos = 0.0, 0.0, 0
    for bi, (gt_boxes, gt_labels) in enumerate(gts):
        targets = losses.normalize_boxes(gt_boxes) if len(gt_labels) else torch.zeros(0, 10)
        num_pos += len(gt_labels)
        for layer in range(cls.shape[0]):
            c, r = cls[layer, bi, nd:], boxes[layer, bi, nd:]
            rows, cols = losses.hungarian(c, r, gt_labels, targets)
            lc, lr = losses.set_loss(c, r, gt_labels, targets, rows, cols, 10)
            total_cls, total_reg = total_cls + lc, total_reg + lr
            if dn_info[bi] is not None:
                index, pos = dn_info[bi]
                valid = index >= 0
                dc, dr = cls[layer, bi, :nd][valid], boxes[layer, bi, :nd][valid]
                vi, vp = index[valid], pos[valid]
                t = torch.zeros_like(dc)
                t[vp, gt_labels[vi[vp]]] = 1.0
                total_cls = total_cls + losses.focal_loss(dc, t)
                if vp.any():
                    diff = (dr[vp] - targets[vi[vp]]).abs() * losses.CODE_WEIGHTS
                    total_reg = total_reg + torch.nan_to_num(diff).sum()
    norm = max(num_pos, 1) * (1 + args.dn_groups * 0.5)
    loss = (losses.CLS_WEIGHT * total_cls + losses.REG_WEIGHT * total_reg) / norm
    loss_heat = loss_depth = torch.zeros(())
    if args.stage != "head":
        heat, depth, dmask = aux
        loss_heat = losses.heatmap_focal_loss(model.aux_heatmap(feats), heat)
        loss_depth = ((model.aux_depth(feats) - depth).abs() * dmask).sum() / dmask.sum().clamp(min=1)
        loss = loss + args.aux_weight * (loss_heat + 0.2 * loss_depth)
    parts = {"cls": float(total_cls) / norm, "reg": float(total_reg) / norm, "heat": float(loss_heat), "depth": float(loss_depth)}
    return loss, parts


def cached_features(model, ds, work):
    """Backbone features of every training sample (f16), computed once with the frozen backbone."""
    path = os.path.join(work, "features.npy")
    if os.path.exists(path):
        return np.load(path, mmap_mode="r")
    model.eval()
    out = None
    start = time.time()
    with torch.no_grad():
        for i in range(len(ds)):
            f = model.img_backbone(torch.from_numpy(normalize_images(ds.images[i]))).half().numpy()
            if out is None:
                out = np.lib.format.open_memmap(path + ".tmp.npy", mode="w+", dtype=np.float16, shape=(len(ds),) + f.shape)
            out[i] = f
            if (i + 1) % 500 == 0:
                log(f"features: {i + 1}/{len(ds)} ({time.time() - start:.0f} s)")
    out.flush()
    del out
    os.replace(path + ".tmp.npy", path)
    return np.load(path, mmap_mode="r")


def load_source(path):
    """A checkpoint written by this script, or a bundle directory (config.json + model.safetensors)."""
    if not os.path.isdir(path):
        return torch.load(path, weights_only=False)
    from safetensors.torch import load_file
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    tensors = load_file(os.path.join(path, "model.safetensors"))
    return {"config": config, "model": {k: v.float() for k, v in tensors.items()}}


def learning_rate(args, it):
    if it < args.warmup:
        return args.lr * (it + 1) / args.warmup
    t = min(1.0, (it - args.warmup) / max(1, args.iters - args.warmup))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + np.cos(np.pi * t)))


def save_checkpoint(path, model, optimizer, it, args):
    tmp = path + ".tmp"
    torch.save({"model": qat.plain_state_dict(model), "optimizer": optimizer.state_dict(), "iteration": it,
                "config": model.config, "generator": args.generator.get_state(), "stage": args.stage,
                "numpy": np.random.get_state(), "args": {k: v for k, v in vars(args).items() if k != "generator"}}, tmp)
    os.replace(tmp, path)


def train(args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    args.generator = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    checkpoint_path = os.path.join(args.work, "checkpoint.pt")
    config = demo_config(args.pe, args.qfpe_anchors, args.backbone)
    model = DemoPETR(config)
    start, state = 0, None
    if os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path, weights_only=False)
        model.load_state_dict(state["model"])
        start = state["iteration"]
        args.generator.set_state(state["generator"])
        np.random.set_state(state["numpy"])
        log(f"resumed from {checkpoint_path} at iteration {start}")
    elif args.init_from:
        source = load_source(args.init_from)
        refine_from_source_anchors(source, config)
        missing, unexpected = model.load_state_dict(source["model"], strict=False)
        log(f"initialised from {args.init_from}; new: {missing}; dropped: {unexpected}")
    if args.stage == "head":
        for p in model.img_backbone.parameters():
            p.requires_grad_(False)
    teacher = None
    if args.teacher:
        source = load_source(args.teacher)
        teacher = DemoPETR(source["config"])
        teacher.load_state_dict(source["model"], strict=False)
        teacher.eval().requires_grad_(False)
        if args.stage == "backbone":
            return train_backbone(args, model, teacher, state, start, checkpoint_path)
        log(f"distilling from {args.teacher}: float head + {args.qat} x simulated-INT8 head, no detection loss")
    simulation = None
    if args.qat or args.distill:
        grids = qat.deployed_grids(args.qat_grid) if args.qat_grid else None
        simulation = qat.enable(model.pts_bbox_head, grids)
        if grids:
            log(f"simulated INT8 rounds on the grids of {args.qat_grid} (moving min/max where it has none)")
        log(f"quantization-aware: float loss + {args.qat} x simulated per-tensor INT8 head loss "
            f"+ {args.distill} x its distance to the float head (demo_petr/qat.py)")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
    with open(os.path.join(args.work, "recipe.json"), "w") as f:
        json.dump({k: v for k, v in vars(args).items() if k != "generator"}, f, indent=1)
    ds = Dataset(args.data, args.version, args.split, config, args.work)
    if args.stage == "head":
        ds.features = cached_features(model, ds, args.work)
    model.train()
    t0, seen = time.time(), 0
    history = []
    for it in range(start, min(args.iters, args.stop_at or args.iters)):
        for g in optimizer.param_groups:
            g["lr"] = learning_rate(args, it)
        indices = np.random.randint(0, len(ds), size=args.batch)
        images, l2i, gts, aux = batch(ds, indices, config, args.generator, with_images=args.stage != "head")
        if args.stage == "head":
            images = torch.from_numpy(ds.features[indices].astype(np.float32)).flatten(0, 1)
        if teacher is not None:
            loss, parts = qat.teacher_loss(model.pts_bbox_head, teacher.pts_bbox_head, images, l2i,
                                           tuple(config["image_size"]), simulation, losses.CODE_WEIGHTS, args.qat)
        else:
            if simulation is not None:
                simulation.enabled = False
            loss, parts = training_step(model, images, l2i, gts, aux, args)
        if args.qat and teacher is None:
            simulation.enabled = True
            loss_int8, parts_int8 = training_step(model, images, l2i, gts, aux, args)
            loss = loss + args.qat * loss_int8
            parts.update({"cls_int8": parts_int8["cls"], "reg_int8": parts_int8["reg"]})
        if args.distill:
            loss_distill, parts_distill = qat.distillation_loss(
                model.pts_bbox_head, images, l2i, tuple(model.config["image_size"]), simulation, losses.CODE_WEIGHTS)
            loss = loss + args.distill * loss_distill
            parts.update(parts_distill)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 35.0)
        optimizer.step()
        history.append(parts)
        if it == start and simulation is not None and simulation.unmatched():
            log(f"no deployed grid for {', '.join(simulation.unmatched())}: moving min/max there")
        seen += 1
        if (it + 1) % args.log_every == 0:
            mean = {k: np.mean([h[k] for h in history]) for k in history[0]}
            history.clear()
            rate = seen / (time.time() - t0)
            log(f"iter {it + 1}/{args.iters} lr {learning_rate(args, it):.2e} "
                + " ".join(f"{k} {v:.3f}" for k, v in mean.items()) + f" ({rate:.2f} it/s)")
        if (it + 1) % args.save_every == 0 or it + 1 in (args.iters, args.stop_at):
            save_checkpoint(checkpoint_path, model, optimizer, it + 1, args)
    log("training done")


def train_backbone(args, model, teacher, state, start, checkpoint_path):
    """Stage `backbone`: the backbone learns to reproduce the teacher's backbone features (mean
    squared error on the feature map, random camera images of the training set, --batch images
    per step); the head is the teacher's, frozen, so the checkpoint is a whole detector."""
    if start == 0:
        model.pts_bbox_head.load_state_dict(teacher.pts_bbox_head.state_dict())
        log(f"backbone stage: head copied from {args.teacher}; backbone ({model.config['backbone']['type']}) "
            f"distilled from its features")
    model.pts_bbox_head.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.img_backbone.parameters(), lr=args.lr, weight_decay=0.01)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
    with open(os.path.join(args.work, "recipe.json"), "w") as f:
        json.dump({k: v for k, v in vars(args).items() if k != "generator"}, f, indent=1)
    ds = Dataset(args.data, args.version, args.split, model.config, args.work)
    cameras = ds.images.shape[1]
    model.img_backbone.train()
    t0, seen, history = time.time(), 0, []
    for it in range(start, min(args.iters, args.stop_at or args.iters)):
        for g in optimizer.param_groups:
            g["lr"] = learning_rate(args, it)
        picks = np.random.randint(0, len(ds) * cameras, size=args.batch)
        images = torch.from_numpy(normalize_images(ds.images[picks // cameras, picks % cameras]))
        with torch.no_grad():
            target = teacher.img_backbone(images)
        loss = (model.img_backbone(images) - target).square().mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.img_backbone.parameters(), 35.0)
        optimizer.step()
        history.append(float(loss.detach()) / float(target.square().mean()))
        seen += 1
        if (it + 1) % args.log_every == 0:
            log(f"iter {it + 1}/{args.iters} lr {learning_rate(args, it):.2e} relative feature error "
                f"{np.mean(history):.4f} ({seen / (time.time() - t0):.2f} it/s)")
            history.clear()
        if (it + 1) % args.save_every == 0 or it + 1 in (args.iters, args.stop_at):
            save_checkpoint(checkpoint_path, model, optimizer, it + 1, args)
    log("training done")


def measure_ranges(model, root, version, split, samples=8):
    """max |position embedding| vs max |image features| (input_proj output) on a few samples:
    the imbalance that breaks per-tensor INT8 on `key = feature + PE` (Q-PETR's diagnosis)."""
    config = model.config
    crop = Crop(tuple(config["preprocess"]["source_size"]), tuple(config["image_size"]))
    tables = Tables(root, version)
    pe_max, feat_max, pe_abs, feat_abs = 0.0, 0.0, [], []
    model.eval()
    with torch.no_grad():
        for token in tables.sample_tokens(split)[:samples]:
            images, l2i, _, _ = load_sample(tables, token, crop)
            x = torch.from_numpy(normalize_images(images))
            feats = model.img_backbone(x)
            head = model.pts_bbox_head
            pos = head.position_embedding(feats, torch.from_numpy(l2i)[None], tuple(config["image_size"]))
            memory = head.input_proj(feats)
            pe_max, feat_max = max(pe_max, float(pos.abs().max())), max(feat_max, float(memory.abs().max()))
            pe_abs.append(float(pos.abs().mean())); feat_abs.append(float(memory.abs().mean()))
    return {"samples": samples, "max_abs_pos_embed": pe_max, "max_abs_features": feat_max,
            "mean_abs_pos_embed": float(np.mean(pe_abs)), "mean_abs_features": float(np.mean(feat_abs))}


def export(args):
    from safetensors.torch import save_file
    state = torch.load(os.path.join(args.work, "checkpoint.pt"), weights_only=False)
    config = state["config"]
    model = DemoPETR(config)
    model.load_state_dict(state["model"])
    os.makedirs(args.export, exist_ok=True)
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in model.export_state_dict().items()}
    config = dict(config)
    config["source"] = f"tools/train_demo_petr.py ({state['iteration']} iterations, pe {config['head']['pe']})"
    for name, data in (("config.json", json.dumps(config, indent=1) + "\n"),):
        tmp = os.path.join(args.export, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, os.path.join(args.export, name))
    tmp = os.path.join(args.export, "model.safetensors.tmp")
    save_file(tensors, tmp)
    os.replace(tmp, os.path.join(args.export, "model.safetensors"))
    recipe = os.path.join(args.work, "recipe.json")
    if os.path.exists(recipe):
        with open(recipe) as f:
            r = json.load(f)
        r["iterations_done"] = state["iteration"]
        if args.data:
            r["ranges"] = measure_ranges(model, args.data[0], args.version, args.split)
            log(f"ranges: {r['ranges']}")
        with open(os.path.join(args.export, "training.json"), "w") as f:
            json.dump(r, f, indent=1)
    log(f"exported {len(tensors)} tensors to {args.export}")


def predict(args):
    from demo_petr.predict import decode, results_document, to_results
    state = torch.load(os.path.join(args.work, "checkpoint.pt"), weights_only=False)
    config = state["config"]
    model = DemoPETR(config)
    model.load_state_dict(state["model"])
    model.eval()
    crop = Crop(tuple(config["preprocess"]["source_size"]), tuple(config["image_size"]))
    tables = Tables(args.data[0], args.version)
    tokens = tables.sample_tokens(args.split)
    h = config["head"]
    results = {}
    with torch.no_grad():
        for i, token in enumerate(tokens):
            images, l2i, _, _ = load_sample(tables, token, crop)
            x = torch.from_numpy(normalize_images(images))[None]
            cls, boxes, _ = model(x, torch.from_numpy(l2i)[None])
            b, s, lab, _ = decode(cls[-1, 0], boxes[-1, 0], h["max_num"], h["post_center_range"], h["score_threshold"])
            results[token] = to_results(tables, token, b, s, lab)
            if (i + 1) % 20 == 0:
                log(f"predict: {i + 1}/{len(tokens)}")
    tmp = args.predict + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results_document(results), f)
    os.replace(tmp, args.predict)
    log(f"wrote {args.predict} ({len(tokens)} samples, iteration {state['iteration']})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="*", default=[], help="synthetic set directories (onboard synth)")
    p.add_argument("--version", default="v1.0-synth")
    p.add_argument("--split", default=None, help="split name in splits.json (default: every sample)")
    p.add_argument("--work", required=True, help="checkpoint directory (resumed when it holds one)")
    p.add_argument("--export", help="write a bundle from the work directory's checkpoint and exit")
    p.add_argument("--predict", metavar="RESULTS.json", help="run the checkpoint on --data/--split and write results")
    p.add_argument("--pe", choices=["petr", "qfpe"], default="petr")
    p.add_argument("--qfpe-anchors", choices=["dense", "coarse"], default="dense", help="QFPE anchor grid (see qfpe_anchors)")
    p.add_argument("--init-from", help="checkpoint or bundle directory to start from (non-matching tensors stay fresh)")
    p.add_argument("--stage", choices=["all", "head", "backbone"], default="all",
                   help="head: freeze the backbone (from --init-from), cache its features once and train the head alone; "
                        "backbone: train the backbone alone to reproduce --teacher's backbone features (the head is "
                        "the teacher's)")
    p.add_argument("--backbone", choices=["vit", "vim"], default="vit",
                   help="vit: the demo ViT (4 blocks); vim: a Vision Mamba of the same width (demo_petr/vim.py)")
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--stop-at", type=int, help="stop after this iteration, keeping the schedule of --iters")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=4e-4)
    p.add_argument("--min-lr-ratio", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--dn-groups", type=int, default=5)
    p.add_argument("--dn-noise", type=float, default=1.0)
    p.add_argument("--dn-split", type=float, default=0.75)
    p.add_argument("--aux-weight", type=float, default=1.0)
    p.add_argument("--qat", type=float, default=0.0, metavar="WEIGHT",
                   help="head stage: add WEIGHT x the loss of the head run with simulated per-tensor INT8 (0: off)")
    p.add_argument("--qat-grid", metavar="QUANT_JSON",
                   help="with --qat: round activations on the scales and zero points of this quant.json "
                        "(onboard validate's model-int8/quant.json) instead of moving min/max ranges")
    p.add_argument("--distill", type=float, default=0.0, metavar="WEIGHT",
                   help="head stage: add WEIGHT x the distance of the simulated-INT8 head's outputs to the float head's")
    p.add_argument("--teacher", metavar="MODEL",
                   help="head stage: checkpoint or bundle whose outputs the head learns instead of the detection "
                        "loss, the float forward with weight 1 and the simulated-INT8 one with --qat")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--save-every", type=int, default=500)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.export:
        export(args)
    elif args.predict:
        predict(args)
    else:
        if not args.data:
            p.error("--data is required for training")
        if args.teacher and args.stage == "all":
            p.error("--teacher needs --stage head or backbone")
        if args.stage == "backbone" and not args.teacher:
            p.error("--stage backbone needs --teacher")
        if args.qat_grid and not (args.qat or args.distill):
            p.error("--qat-grid needs --qat or --distill")
        if args.qat_grid:
            try:
                qat.deployed_grids(args.qat_grid)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
                p.error(f"--qat-grid {args.qat_grid}: not a readable quant.json ({error})")
        train(args)


if __name__ == "__main__":
    main()

"""Quantization-aware fine-tuning of the PETR head with a float path kept.

The simulated forward sees the rounding that `onboard`'s INT8 executor applies with
Configs/recipes/qpetr-int8.json (straight-through gradients): int8 symmetric per-tensor weights of
every Linear and conv (q, k and v projections separately); u8 asymmetric per-tensor activations
after every Linear, conv, LayerNorm, ReLU, residual and position add, ranges tracked as moving
min/max; QANS logits (row max subtracted, clipped at -SOFTMAX_CLIP, u8 over [-clip, 0]); the
softmax with deferred normalization (codes round(255 e^x), divided by their row sum after the
product with V); the two branch outputs in f32 (`graph_outputs: float`). The backbone is not
simulated (its features come from the cache).

Given a quant.json (`onboard validate` writes one under REPORT/model-int8/), the activations round
on the grids the executor calibrated (percentile ranges, cut for their ReLU readers) instead of
moving min/max ones. The decoder's post_norm, one module here but three ops there, keeps min/max.

`Simulation.enabled` switches between that forward and the plain float one, so one step can train
both: the float model must stay as good as it is (the issue's FP32 bar), and its INT8 run must
follow it. The exported weights are the float ones; `onboard validate` calibrates them as any
other bundle.
"""
import json
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrize

from . import model as petr

SOFTMAX_CLIP = 15.0
FLOAT_OUTPUTS = ("cls_branches.0.6", "reg_branches.0.4")


def round_ste(x):
    return x + (torch.round(x) - x).detach()


def fake_quant_u8(x, scale, zero):
    """u8 asymmetric rounding with a straight-through gradient."""
    return (round_ste(x / scale) + zero).clamp(0, 255).sub(zero) * scale


class Observer:
    """u8 asymmetric per tensor over a moving min/max of the batches seen."""

    def __init__(self, momentum=0.01):
        self.low, self.high, self.momentum = None, None, momentum

    def __call__(self, x):
        low, high = float(x.detach().min()), float(x.detach().max())
        if self.low is None:
            self.low, self.high = low, high
        else:
            m = self.momentum
            self.low, self.high = (1 - m) * self.low + m * low, (1 - m) * self.high + m * high
        lo, hi = min(self.low, 0.0), max(self.high, 0.0)
        scale = max(hi - lo, 1e-8) / 255
        return fake_quant_u8(x, scale, round(-lo / scale))


class DeployedGrid:
    """u8 asymmetric per tensor on a fixed grid: the scale and zero point `onboard` calibrated."""

    def __init__(self, scale, zero_point):
        self.scale, self.zero = scale, zero_point

    def __call__(self, x):
        return fake_quant_u8(x, self.scale, self.zero)


def executor_name(key):
    """The name `onboard` gives the tensor a simulation call site rounds (see `enable`)."""
    match = re.fullmatch(r"(transformer\.decoder\.layers\.\d+)\.attentions\.(\d)\.query", key)
    if match:
        return f"pts_bbox_head.{match[1]}.{('self_attn', 'cross_attn')[int(match[2])]}.query"
    if re.fullmatch(r"transformer\.decoder\.layers\.\d+\.attentions\.1\.key", key):
        return "pts_bbox_head.transformer.cross_key"
    key = re.sub(r"(attentions\.\d)\.(q|k|v|context|out_proj)$", r"\1.attn.\2", key)
    return "pts_bbox_head." + key


class Simulation:
    """Observers by call site; a pass-through while `enabled` is false. With `grids` (activation
    name -> (scale, zero point), from a quant.json) a call site whose executor tensor has a grid
    rounds on it; the others track moving min/max ranges."""

    def __init__(self, grids=None):
        self.observers = {}
        self.grids = grids or {}
        self.enabled = True

    def __call__(self, key, x):
        if not self.enabled:
            return x
        if key not in self.observers:
            grid = self.grids.get(executor_name(key))
            self.observers[key] = DeployedGrid(*grid) if grid else Observer()
        return self.observers[key](x)

    def unmatched(self):
        """Call sites that track their own ranges although grids were given."""
        return sorted(k for k, o in self.observers.items() if isinstance(o, Observer)) if self.grids else []


def deployed_grids(path):
    """Activation grids from an INT8 bundle's quant.json (`onboard validate` writes model-int8/)."""
    with open(path) as f:
        activations = json.load(f)["activations"]
    return {name: (float(q["scale"]), int(q["zero_point"])) for name, q in activations.items()}


class WeightFakeQuant(nn.Module):
    """int8 symmetric per tensor, scale max|w| / 127, while the simulation is on."""

    def __init__(self, sim):
        super().__init__()
        self.sim = sim

    def forward(self, w):
        if not self.sim.enabled:
            return w
        scale = w.detach().abs().max().clamp(min=1e-8) / 127
        return round_ste(w / scale).clamp(-127, 127) * scale


def stabilized_logits(logits):
    shifted = (logits - logits.detach().amax(-1, keepdim=True)).clamp(min=-SOFTMAX_CLIP)
    scale = SOFTMAX_CLIP / 255
    return round_ste(shifted / scale).clamp(-255, 0) * scale


def deferred_softmax(logits):
    codes = round_ste(255 * torch.exp(logits))
    return codes / codes.sum(-1, keepdim=True).clamp(min=1)


def attention_forward(sim, key, plain, quantize_weight):
    def forward(self, query, key_in, value, query_pos, key_pos, attn_mask=None):
        if not sim.enabled:
            return plain(query, key_in, value, query_pos, key_pos, attn_mask)
        attn = self.attn
        e, heads = attn.embed_dim, attn.num_heads
        d = e // heads
        q_in = sim(key + ".query", query + query_pos)
        k_in = q_in if key_in is query and key_pos is query_pos else sim(key + ".key", key_in + key_pos)
        w, b = attn.in_proj_weight, attn.in_proj_bias
        q = sim(key + ".q", F.linear(q_in, quantize_weight(w[:e]), b[:e]))
        k = sim(key + ".k", F.linear(k_in, quantize_weight(w[e:2 * e]), b[e:2 * e]))
        v = sim(key + ".v", F.linear(value, quantize_weight(w[2 * e:]), b[2 * e:]))
        lq, bsz = q.shape[:2]
        lk = k.shape[0]
        q = q.reshape(lq, bsz * heads, d).transpose(0, 1)
        k = k.reshape(lk, bsz * heads, d).transpose(0, 1)
        v = v.reshape(lk, bsz * heads, d).transpose(0, 1)
        logits = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d)
        if attn_mask is not None:
            logits = logits.masked_fill(attn_mask[None], float("-inf"))
        probs = deferred_softmax(stabilized_logits(logits))
        context = sim(key + ".context", torch.bmm(probs, v)).transpose(0, 1).reshape(lq, bsz, e)
        out = sim(key + ".out_proj", F.linear(context, quantize_weight(attn.out_proj.weight), attn.out_proj.bias))
        return sim(key + ".residual", query + out)
    return forward


def ffn_forward(sim, key):
    def forward(self, x):
        return sim(key + ".residual", x + self.layers(x))
    return forward


def output_hook(sim, key):
    def hook(module, inputs, output):
        return sim(key, output)
    return hook


def enable(head, grids=None):
    """Adds the simulated INT8 forward to the head (in place); returns the simulation, on."""
    sim = Simulation(grids)
    quantize_weight = WeightFakeQuant(sim)
    for name, module in head.named_modules():
        if isinstance(module, nn.MultiheadAttention) or ".attn." in name + ".":
            continue
        plain_float = name.startswith(("query_embedding", "adapt_pos3d"))
        if isinstance(module, (nn.Linear, nn.Conv2d)) and not plain_float:
            parametrize.register_parametrization(module, "weight", WeightFakeQuant(sim))
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.LayerNorm, nn.ReLU)) and not plain_float \
                and name not in FLOAT_OUTPUTS:
            module.register_forward_hook(output_hook(sim, name))
        if isinstance(module, petr.MultiheadAttention):
            module.forward = attention_forward(sim, name, module.forward, quantize_weight).__get__(module)
        if isinstance(module, petr.FFN):
            module.forward = ffn_forward(sim, name).__get__(module)
    position_embedding = head.position_embedding
    head.position_embedding = lambda *args: sim("pos3d", position_embedding(*args))
    return sim


def plain_state_dict(model):
    """The state dict with fake-quant parametrizations stripped back to the float weights."""
    return {k.replace("parametrizations.weight.original", "weight"): v for k, v in model.state_dict().items()}


def output_distance(cls, boxes, cls_target, boxes_target, code_weights, score_weighted=True):
    """L1 of the box codes and of the class scores (after the sigmoid, so the logits of classes
    nobody detects do not count) from a target's, each query weighted by its target score so the
    boxes that count in the metric count most. With `score_weighted` false the score term weighs
    every query alike, so a background query whose score rises counts as much as a detection's."""
    weight = torch.sigmoid(cls_target).amax(-1, keepdim=True)
    norm = weight.sum().clamp(min=1e-6)
    box = (weight * (boxes - boxes_target).abs() * code_weights).sum() / norm
    score_error = (torch.sigmoid(cls) - torch.sigmoid(cls_target)).abs()
    score = (weight * score_error).sum() / norm if score_weighted else score_error.sum(-1).mean()
    return box, score


def distillation_loss(head, feats, lidar2img, pad_hw, sim, code_weights):
    """How far the simulated-INT8 head's last-layer outputs lie from the float head's, on the
    inference queries (`output_distance`). The float outputs are the (fixed) target."""
    sim.enabled = False
    with torch.no_grad():
        cls_f, boxes_f = head(feats, lidar2img, pad_hw)
    sim.enabled = True
    cls_q, boxes_q = head(feats, lidar2img, pad_hw)
    box, score = output_distance(cls_q[-1], boxes_q[-1], cls_f[-1], boxes_f[-1], code_weights)
    return box + score, {"distill_box": float(box), "distill_score": float(score)}


def teacher_loss(head, teacher, feats, lidar2img, pad_hw, sim, code_weights, int8_weight):
    """Both forwards of the head pulled toward a frozen teacher's outputs, every decoder layer's:
    the float one, so the float model stays the teacher's, and the simulated-INT8 one (times
    `int8_weight`), so its INT8 run follows the teacher rather than a float model that moves."""
    with torch.no_grad():
        cls_t, boxes_t = teacher(feats, lidar2img, pad_hw)
    parts, total = {}, 0.0
    for name, enabled, weight in (("float", False, 1.0), ("int8", True, int8_weight)):
        if not weight:
            continue
        if sim is not None:
            sim.enabled = enabled
        cls, boxes = head(feats, lidar2img, pad_hw)
        box, score = output_distance(cls, boxes, cls_t, boxes_t, code_weights, score_weighted=False)
        total = total + weight * (box + score)
        parts.update({f"{name}_box": box.item(), f"{name}_score": score.item()})
    return total, parts

#!/usr/bin/env python3
"""Rewrite a PETR bundle's head for per-tensor INT8 without changing what it computes in float.

Three exact reparameterisations, fitted on samples of a recorded set (the calibration set):

1. Per attention head, the query/key pair: q' = q A and k' = k A^-T leave every logit q.k unchanged
   (A folds into the rows of the q and k projections). The key bias also moves by a vector c: a key
   offset adds one value to a whole row of logits, which softmax ignores.
2. The space the cross-attentions read their keys and values from: memory' = M memory and
   position' = M position (M folds into the rows of `input_proj`, `qfpe` and `adapt_pos3d.2`), read
   back through the k and v projections' columns times M^-1.
3. Per attention head, the values: v' = v N, so the context is context N, which out_proj reads
   through N^-T.

A, c, M and N minimise a noise model of per-tensor 8-bit rounding: each quantized tensor contributes
its step squared (its range over 255, and its weight's over 127 times the input's mean square),
times how strongly the attention logits (for N, the attention output) feel an error there (for a
key-side error, the mean square of q W_k over the calibration queries). QFPE makes the cross-attention sharp, so the logits, and
the class scores behind them, are most sensitive to exactly these roundings.

Writes a new bundle: config.json, model.safetensors (the rewritten tensors in float32, every
other tensor as stored) and reparameterization.json (what was fitted, and the noise-model ratios).

    python tools/reparameterize_petr_int8.py --model Configs/models/qpetr-demo \
        --data CALIBRATION_SET --split synth_train --samples 16 --out NEW_BUNDLE
"""

import argparse
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_petr.model import DemoPETR  # noqa: E402
from demo_petr.nuscenes_set import normalize_images  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from train_demo_petr import Dataset  # noqa: E402

HEAD = "pts_bbox_head."
MEMORY_PRODUCERS = ("input_proj", "qfpe", "adapt_pos3d.2")


def log(message):
    print(message, file=sys.stderr, flush=True)


def attention_key(layer, index):
    return f"{HEAD}transformer.decoder.layers.{layer}.attentions.{index}.attn."


def rows(tensor):
    """A 1x1 conv or Linear weight as a [out, in] matrix view."""
    return tensor.reshape(tensor.shape[0], -1)


class Captures:
    """Float activations of the head on the fitting samples."""

    def __init__(self, model, dataset, samples, image_size):
        head = model.pts_bbox_head
        self.features, self.memory, self.qfpe, self.pos3d = [], [], [], []
        self.attention_inputs = {}
        hooks = [
            head.input_proj.register_forward_hook(self._conv(self.features, self.memory)),
            head.qfpe.register_forward_hook(self._conv(None, self.qfpe)),
            head.adapt_pos3d.register_forward_hook(self._conv(None, self.pos3d)),
        ]
        for layer_index, layer in enumerate(head.transformer.decoder.layers):
            for index, attention in enumerate(layer.attentions):
                hooks.append(attention.attn.register_forward_hook(self._attention((layer_index, index))))
        step = max(1, len(dataset.images) // samples)
        with torch.no_grad():
            for n, s in enumerate(range(0, step * samples, step)):
                log(f"capture: sample {n + 1}/{samples}")
                feats = model.img_backbone(torch.from_numpy(normalize_images(dataset.images[s])))
                head(feats, torch.from_numpy(dataset.lidar2img[s])[None], image_size)
        for hook in hooks:
            hook.remove()
        self.features, self.memory, self.qfpe, self.pos3d = (
            torch.cat(t) for t in (self.features, self.memory, self.qfpe, self.pos3d))
        self.position = self.qfpe + self.pos3d
        self.key_input = self.memory + self.position

    @staticmethod
    def _tokens(x):
        return x.detach().permute(0, 2, 3, 1).reshape(-1, x.shape[1])

    def _conv(self, inputs, outputs):
        def hook(module, args, output):
            if inputs is not None:
                inputs.append(self._tokens(args[0]))
            outputs.append(self._tokens(output))
        return hook

    def _attention(self, key):
        def hook(module, args, output):
            query, keys, values = (a.detach() for a in args[:3])
            self.attention_inputs.setdefault(key, []).append(tuple(a.reshape(-1, a.shape[-1])
                                                                   for a in (query, keys, values)))
        return hook


def range_of(x):
    return x.max() - x.min()


def minimise(noise, parameters, iterations, rate, label=None):
    """Adam on noise(); returns the final noise as a fraction of the starting one."""
    optimizer = torch.optim.Adam(parameters, lr=rate)
    with torch.no_grad():
        start = noise().item()
    for n in range(iterations):
        loss = noise()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if label and (n + 1) % 250 == 0:
            log(f"{label}: iteration {n + 1}/{iterations}, noise {loss.item() / start:.3f} of the start")
    with torch.no_grad():
        return noise().item() / start


def fit_head_transform(wq, bq, wk, bk, queries, keys, heads, iterations, rate):
    """A [heads, d, d] and the key shift c for one attention; returns (A, c, noise ratio)."""
    e = wq.shape[0]
    d = e // heads
    query_power = queries.pow(2).sum(-1).mean()
    key_power = keys.pow(2).sum(-1).mean()
    k_float = F.linear(keys, wk, bk)
    shift = ((k_float.amax(0) + k_float.amin(0)) / 2).clone().requires_grad_(True)
    blocks = torch.eye(d).repeat(heads, 1, 1).requires_grad_(True)

    def noise():
        a = torch.block_diag(*blocks)
        a_inv = torch.linalg.inv(a)
        wq2, bq2 = a.T @ wq, a.T @ bq
        wk2, bk2 = a_inv @ wk, a_inv @ (bk - shift)
        q, k = F.linear(queries, wq2, bq2), F.linear(keys, wk2, bk2)
        k_centred = k - k.mean(0)
        q_step = (range_of(q) / 255) ** 2 + (wq2.abs().max() / 127) ** 2 * query_power
        k_step = (range_of(k) / 255) ** 2 + (wk2.abs().max() / 127) ** 2 * key_power
        # a q error meets the key's spread over the row (a row constant cancels); a k error meets all of q
        return q_step * k_centred.pow(2).sum(-1).mean() + k_step * q.pow(2).sum(-1).mean()

    ratio = minimise(noise, [blocks, shift], iterations, rate)
    return blocks.detach(), shift.detach(), ratio


def contexts(w, b, pairs, heads):
    """Per sample, the heads' attention-weighted values (what out_proj reads), from float q, k, v."""
    e = w.shape[1]
    d = e // heads
    out = []
    for query, keys, values in pairs:
        split = lambda x: x.reshape(x.shape[0], heads, d).transpose(0, 1)
        q, k, v = (split(F.linear(x, w[i * e:(i + 1) * e], b[i * e:(i + 1) * e]))
                   for i, x in enumerate((query, keys, values)))
        p = torch.softmax(q @ k.transpose(1, 2) / d ** 0.5, -1)
        out.append((p @ v).transpose(0, 1).reshape(-1, e))
    return torch.cat(out)


def fit_value_transform(wv, bv, wo, values, context, heads, iterations, rate):
    """N [heads, d, d] with v' = v N and out_proj reading context' through N^-T; returns (N, noise ratio)."""
    e = wv.shape[0]
    d = e // heads
    value_power = values.pow(2).sum(-1).mean()
    v_float = F.linear(values, wv, bv)
    blocks = torch.eye(d).repeat(heads, 1, 1).requires_grad_(True)

    def noise():
        n = torch.block_diag(*blocks)
        wv2, wo2 = n.T @ wv, wo @ torch.linalg.inv(n).T
        v, c = v_float @ n, context @ n
        # v and context errors reach the output through out_proj; a value error passes the softmax average
        steps = (range_of(v) ** 2 + range_of(c) ** 2) / 255 ** 2 + (wv2.abs().max() / 127) ** 2 * value_power
        return steps * wo2.pow(2).sum() + (wo2.abs().max() / 127) ** 2 * c.pow(2).sum(-1).mean() * e

    ratio = minimise(noise, [blocks], iterations, rate)
    return blocks.detach(), ratio


def apply_value_transform(state, key, blocks):
    w, b = state[key + "in_proj_weight"].double().clone(), state[key + "in_proj_bias"].double().clone()
    e = w.shape[1]
    n = torch.block_diag(*blocks.double())
    w[2 * e:], b[2 * e:] = n.T @ w[2 * e:], n.T @ b[2 * e:]
    state[key + "in_proj_weight"], state[key + "in_proj_bias"] = w, b
    state[key + "out_proj.weight"] = state[key + "out_proj.weight"].double() @ torch.linalg.inv(n).T


def key_sensitivity(state, captures, heads):
    """G with e^T G e = mean square logit change for a key-input error e, summed over cross-attentions."""
    e = captures.key_input.shape[1]
    d = e // heads
    g = torch.zeros(e, e)
    for (layer, index), pairs in captures.attention_inputs.items():
        if index != 1:
            continue
        key = attention_key(layer, index)
        w, b = state[key + "in_proj_weight"].float(), state[key + "in_proj_bias"].float()
        q = F.linear(torch.cat([p[0] for p in pairs]), w[:e], b[:e])
        for h in range(heads):
            part = slice(h * d, (h + 1) * d)
            wk = w[e:2 * e][part]
            g += wk.T @ (q[:, part].T @ q[:, part] / len(q)) @ wk / d
    return g


def fit_memory_transform(state, captures, heads, iterations, rate):
    """M for the memory / key-position space; returns (M, noise ratio)."""
    sensitivity = key_sensitivity(state, captures, heads)
    projection = rows(state[HEAD + "input_proj.weight"].float())
    feature_power = captures.features.pow(2).sum(-1).mean()
    tensors = (captures.key_input, captures.memory, captures.position, captures.qfpe, captures.pos3d)
    m = torch.eye(sensitivity.shape[0]).requires_grad_(True)

    def noise():
        m_inv = torch.linalg.inv(m)
        steps = sum(range_of(x @ m.T) ** 2 for x in tensors) / 255 ** 2
        steps = steps + ((m @ projection).abs().max() / 127) ** 2 * feature_power
        return steps * torch.trace(m_inv.T @ sensitivity @ m_inv)

    ratio = minimise(noise, [m], iterations, rate, "memory transform")
    return m.detach(), ratio


def apply_head_transform(state, key, blocks, shift):
    w, b = state[key + "in_proj_weight"].double(), state[key + "in_proj_bias"].double()
    e = w.shape[1]
    a = torch.block_diag(*blocks.double())
    a_inv = torch.linalg.inv(a)
    w, b = w.clone(), b.clone()
    w[:e], b[:e] = a.T @ w[:e], a.T @ b[:e]
    w[e:2 * e], b[e:2 * e] = a_inv @ w[e:2 * e], a_inv @ (b[e:2 * e] - shift.double())
    state[key + "in_proj_weight"], state[key + "in_proj_bias"] = w, b


def apply_memory_transform(state, m, layers):
    m = m.double()
    for name in MEMORY_PRODUCERS:
        weight = state[HEAD + name + ".weight"].double()
        state[HEAD + name + ".weight"] = (m @ rows(weight)).reshape(weight.shape)
        if HEAD + name + ".bias" in state:
            state[HEAD + name + ".bias"] = m @ state[HEAD + name + ".bias"].double()
    m_inv = torch.linalg.inv(m)
    for layer in range(layers):
        key = attention_key(layer, 1) + "in_proj_weight"
        w = state[key].double().clone()
        e = w.shape[1]
        w[e:] = w[e:] @ m_inv
        state[key] = w


def write_bundle(out_dir, model_dir, state, changed, record):
    tmp = f"{out_dir}.tmp-{os.getpid()}"
    os.makedirs(tmp)
    try:
        shutil.copy(os.path.join(model_dir, "config.json"), tmp)
        tensors = {k: (v.float() if k in changed else v).contiguous() for k, v in state.items()}
        save_file(tensors, os.path.join(tmp, "model.safetensors"))
        with open(os.path.join(tmp, "reparameterization.json"), "w") as f:
            json.dump(record, f, indent=2)
            f.write("\n")
        for name in os.listdir(tmp):
            os.chmod(os.path.join(tmp, name), 0o644)
        os.chmod(tmp, 0o755)
        os.rename(tmp, out_dir)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)


def float_model(config, state):
    model = DemoPETR(config)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return model.eval()


def float_outputs(config, state, dataset, index):
    model = float_model(config, state)
    with torch.no_grad():
        feats = model.img_backbone(torch.from_numpy(normalize_images(dataset.images[index])))
        cls, boxes = model.pts_bbox_head(feats, torch.from_numpy(dataset.lidar2img[index])[None],
                                         tuple(config["image_size"]))
    return torch.cat([cls.flatten(), boxes.flatten()])


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="PETR bundle (config.json + model.safetensors)")
    p.add_argument("--data", required=True, help="recorded set to fit on (nuScenes layout)")
    p.add_argument("--version", default="v1.0-synth")
    p.add_argument("--split", default="synth_train")
    p.add_argument("--samples", type=int, default=16, help="samples spread over the split")
    p.add_argument("--head-iterations", type=int, default=1000)
    p.add_argument("--memory-iterations", type=int, default=1500)
    p.add_argument("--rate", type=float, default=3e-3, help="Adam step for the head transforms")
    p.add_argument("--memory-rate", type=float, default=2e-3)
    p.add_argument("--cache", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "onboard-reparameterize"))
    p.add_argument("--out", required=True, help="new bundle directory (must not exist)")
    return p.parse_args()


def main():
    args = parse_args()
    if os.path.exists(args.out):
        sys.exit(f"error: {args.out}: already exists")
    if args.samples < 1:
        sys.exit("error: --samples must be at least 1")
    for name in ("config.json", "model.safetensors"):
        if not os.path.isfile(os.path.join(args.model, name)):
            sys.exit(f"error: {args.model}: no {name}")
    if not os.path.isdir(os.path.join(args.data, args.version)):
        sys.exit(f"error: {args.data}: no {args.version} table directory")
    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    if config.get("head", {}).get("pe") != "qfpe":
        sys.exit(f"error: {args.model}/config.json: head.pe must be \"qfpe\" (the memory transform folds into qfpe)")
    state = load_file(os.path.join(args.model, "model.safetensors"))
    model = float_model(config, state)
    os.makedirs(args.cache, exist_ok=True)
    dataset = Dataset([args.data], args.version, args.split, config, args.cache)
    captures = Captures(model, dataset, min(args.samples, len(dataset.images)), tuple(config["image_size"]))
    heads = config["head"]["num_heads"]
    record = {"fitted_on": {"data": os.path.basename(os.path.normpath(args.data)), "split": args.split,
                            "samples": min(args.samples, len(dataset.images))},
              "attention_heads": {}, "memory": {}}
    original = dict(state)
    changed = set()
    attention_contexts = {}
    for (layer, index), pairs in captures.attention_inputs.items():
        key = attention_key(layer, index)
        attention_contexts[key] = contexts(state[key + "in_proj_weight"].float(), state[key + "in_proj_bias"].float(),
                                           pairs, heads)
    for (layer, index), pairs in sorted(captures.attention_inputs.items()):
        key = attention_key(layer, index)
        queries = torch.cat([p[0] for p in pairs])
        keys = torch.cat([p[1] for p in pairs])
        w, b = state[key + "in_proj_weight"].float(), state[key + "in_proj_bias"].float()
        e = w.shape[1]
        blocks, shift, ratio = fit_head_transform(w[:e], b[:e], w[e:2 * e], b[e:2 * e], queries, keys, heads,
                                                  args.head_iterations, args.rate)
        apply_head_transform(state, key, blocks, shift)
        changed |= {key + "in_proj_weight", key + "in_proj_bias"}
        record["attention_heads"][key.rstrip(".")] = {"noise_ratio": round(ratio, 4)}
        log(f"{key}: q/k noise {ratio:.3f} of the start")
    m, ratio = fit_memory_transform(state, captures, heads, args.memory_iterations, args.memory_rate)
    layers = len(model.pts_bbox_head.transformer.decoder.layers)
    apply_memory_transform(state, m, layers)
    changed |= {HEAD + n + s for n in MEMORY_PRODUCERS for s in (".weight", ".bias") if HEAD + n + s in state}
    record["memory"] = {"noise_ratio": round(ratio, 4), "condition_number": round(float(torch.linalg.cond(m)), 2)}
    log(f"memory: noise {ratio:.3f} of the start, condition number {record['memory']['condition_number']}")
    for (layer, index), pairs in sorted(captures.attention_inputs.items()):
        key = attention_key(layer, index)
        values = torch.cat([p[2] for p in pairs])
        if index == 1:
            values = values @ m.T          # the cross-attentions read the transformed memory
        w, b = state[key + "in_proj_weight"].float(), state[key + "in_proj_bias"].float()
        e = w.shape[1]
        blocks, ratio = fit_value_transform(w[2 * e:], b[2 * e:], state[key + "out_proj.weight"].float(), values,
                                            attention_contexts[key], heads, args.head_iterations, args.rate)
        apply_value_transform(state, key, blocks)
        changed.add(key + "out_proj.weight")
        record["attention_heads"][key.rstrip(".")]["value_noise_ratio"] = round(ratio, 4)
        log(f"{key}: v/context noise {ratio:.3f} of the start")
    # the rewrite must not change the float model: compare its outputs on the split's last sample
    check = len(dataset.images) - 1
    stored = {k: (v.float() if k in changed else v) for k, v in state.items()}
    before = float_outputs(config, original, dataset, check)
    after = float_outputs(config, stored, dataset, check)
    difference = float((after - before).abs().max() / before.abs().max())
    record["float_check"] = {"sample": check, "max_relative_difference": difference}
    log(f"float outputs before and after: max difference {difference:.2e} of their range")
    if difference > 1e-4:
        sys.exit(f"error: the rewritten model differs from {args.model} in float ({difference:.2e})")
    write_bundle(args.out, args.model, state, changed, record)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()

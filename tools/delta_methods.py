"""The fine-tune delta methods issue 31 compares DeltaDQ against, shared by tools/delta_table.py
(the MiniLM retrieval fine-tune) and tools/delta_table_petr.py (the Q-PETR demo's new-rig
fine-tune): the changed rows of a fine-tune, DARE + RTN, BitDelta and RTN at a byte budget, all in
the container DeltaDQ files use, and a model directory holding base + a reconstructed delta.

Budget rule: what the file may hold (the float weights' 16-bit size over the ratio), less its
headers, spread evenly over the changed values. Every method's file is written and measured.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

BITS = (2, 3, 4, 8)


def matrix(shape):
    return (shape[0], int(np.prod(shape[1:]))) if len(shape) >= 2 else (1, shape[0] if shape else 1)


def changed_tensors(base, tuned):
    """name -> (changed row indices, delta of those rows [k, cols]) for float tensors that changed."""
    out, float_values = {}, 0
    for name, b in base.items():
        if not np.issubdtype(b.dtype, np.floating):
            continue
        float_values += b.size
        d = (tuned[name].astype(np.float32) - b.astype(np.float32)).reshape(matrix(b.shape))
        rows = np.nonzero(np.any(d != 0, axis=1))[0]
        if len(rows):
            out[name] = (rows, d[rows])
    return out, float_values


def f16(x):
    return np.asarray(x, dtype=np.float16).astype(np.float32)


def rtn(d, bits):
    """Symmetric round-to-nearest with per-row f16 scales (bits 1: sign x mean |row|)."""
    if bits == 1:
        scale = f16(np.abs(d).mean(1, keepdims=True))
        return np.where(d >= 0, scale, -scale), (d >= 0).astype(np.uint32), scale
    qmax = 2 ** (bits - 1) - 1
    scale = f16(np.abs(d).max(1, keepdims=True) / qmax)
    codes = np.clip(np.rint(np.divide(d, scale, out=np.zeros_like(d), where=scale > 0)), -qmax, qmax)
    return codes * scale, (codes + qmax).astype(np.uint32), scale


def pack(codes, bits):
    if bits == 0 or codes.size == 0:
        return np.zeros(0, np.uint8)
    planes = ((codes.reshape(-1, 1) >> np.arange(bits, dtype=np.uint32)) & 1).astype(np.uint8)
    return np.packbits(planes.reshape(-1), bitorder="little")


def varints(values):
    out = bytearray()
    for value in values:
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
    return out


def write_container(path, entries, base_shape, method, ratio):
    """entries: name -> (rows, header ints, scales, packed codes); the layout DeltaDQ files use (v4):
    one index of varint records (tensor, 5 header fields, stream bits), the row scales (f16) and the
    streams (row bitmap + codes) of every tensor in three entries."""
    names = sorted(base_shape)
    index, scales, streams, previous = bytearray(), [], [], -1
    for name, (rows, header, row_scales, packed) in sorted(entries.items()):
        n_rows = matrix(base_shape[name])[0]
        bitmap = np.zeros((n_rows + 7) // 8, np.uint8)
        np.bitwise_or.at(bitmap, rows // 8, (1 << (rows % 8)).astype(np.uint8))
        at = names.index(name)
        index += varints([at - previous - 1] + list(header) + [0] * (5 - len(header)) + [8 * (len(bitmap) + len(packed))])
        previous = at
        scales.append(np.asarray(row_scales, np.float16).reshape(-1))
        streams += [bitmap, packed]
    tensors = {"deltadq.index": np.frombuffer(bytes(index), np.uint8), "deltadq.scales": np.concatenate(scales),
               "deltadq.stream": np.concatenate(streams)}
    save_file(tensors, path, metadata={"format": f"delta-table-{method}", "target_ratio": str(ratio), "base_fingerprint": "0" * 16,
                                       "content_checksum": "-0000000000000000000"})
    return os.path.getsize(path)


def baseline(method, changed, base_shape, float_values, ratio, path, seed=0):
    """Reconstructed deltas (name -> (rows, delta rows)) and the file size, or None if out of reach."""
    target = 2 * float_values / ratio
    values = sum(d.size for _, d in changed.values())
    overhead = 1024 + 12 * len(changed)
    for _ in range(4):
        budget = 8 * (target - overhead)
        row_scales = 16 * sum(d.shape[0] for _, d in changed.values())
        if method == "bitdelta":
            if budget < values:
                return None
            choices = [("sign", 1, 1.0)]
        elif method == "rtn":
            bits = min(8, int((budget - row_scales) // values))
            if bits < 1:
                return None
            choices = [("rtn", bits, 1.0)]
        else:
            choices = [("dare", b, min(1.0, (budget - row_scales) / (b * values))) for b in BITS]
            choices = [c for c in choices if c[2] > 0]
            if not choices:
                return None
        best = None
        for label, bits, keep in choices:
            rng, entries, restored, error, energy = np.random.default_rng(seed), {}, {}, 0.0, 0.0
            for name, (rows, d) in sorted(changed.items()):
                if label == "sign":
                    scale = f16(np.abs(d).mean())
                    r, codes, scales = np.where(d >= 0, scale, -scale), (d >= 0).astype(np.uint32), np.array([scale])
                elif label == "rtn":
                    r, codes, scales = rtn(d, bits)
                else:
                    mask = rng.random(d.shape) < keep
                    r, codes, scales = rtn(np.where(mask, d / keep, 0), bits)
                    r, codes = r * mask, codes[mask]
                entries[name] = (rows, [bits, int(keep * 1e6)], scales, pack(codes, bits))
                restored[name] = (rows, r)
                error += float(((r - d) ** 2).sum())
                energy += float((d ** 2).sum())
            if best is None or error < best[0]:
                best = (error, entries, restored, f"{label} {bits}-bit" + (f" keep {keep:.3f}" if label == "dare" else ""))
        size = write_container(path, best[1], base_shape, method, ratio)
        if size <= target:
            return best[2], size, best[3]
        overhead += size - target + 64
    return None


def model_with(base, restored, out_dir, base_tensors):
    """A model directory: the base's files, model.safetensors = base + restored deltas."""
    os.makedirs(out_dir, exist_ok=True)
    for entry in os.listdir(base):
        target = os.path.join(out_dir, entry)
        if entry != "model.safetensors" and not os.path.exists(target):
            os.symlink(os.path.join(base, entry), target)
    tensors = {}
    for name, b in base_tensors.items():
        t = b.copy()
        if name in restored:
            # In f32, as Onboard merges a delta at load (a half-precision base would round again).
            t = b.astype(np.float32)
            rows, r = restored[name]
            view = t.reshape(matrix(b.shape))
            view[rows] += r
        tensors[name] = t
    save_file(tensors, os.path.join(out_dir, "model.safetensors"))
    return out_dir


class Pair:
    """A base / fine-tuned model directory pair: the base's tensors, the changed rows, the number of
    float values (the ratio's 16-bit size is twice it) and the tensor shapes."""

    def __init__(self, base, finetuned):
        self.base, self.finetuned = base, finetuned
        self.base_tensors = load_file(os.path.join(base, "model.safetensors"))
        tuned = load_file(os.path.join(finetuned, "model.safetensors"))
        self.changed, self.float_values = changed_tensors(self.base_tensors, tuned)
        self.shapes = {name: list(t.shape) for name, t in self.base_tensors.items()}
        print(f"{len(self.changed)} changed float tensors, {sum(d.size for _, d in self.changed.values())} of "
              f"{self.float_values} values in changed rows", file=sys.stderr)


def compare(onboard, pair, ratios, methods, work, calibration, score, row):
    """Every method at every ratio, appended as `row(method, ratio, bytes, detail, metrics)`. DeltaDQ
    methods (deltadq[-SELECTION]) are written by `onboard delta compress` and scored as users serve
    them, `score(base, delta=path)`; the others are written here, scored as model directories
    (`score(model)`) and removed. A ratio out of a method's reach is a row without metrics."""
    results = []
    for ratio in ratios:
        for method in methods:
            path = os.path.join(work, f"{method}-{ratio:g}x.safetensors")
            if method.startswith("deltadq"):
                variant = method.partition("-")[2]  # "", "plain" (no low-rank part), "seeded" or "magnitude"
                selection = variant if variant in ("seeded", "magnitude") else "auto"
                done = subprocess.run([onboard, "delta", "compress", "--selection", selection, "--low-rank", "off" if variant == "plain" else "auto",
                                       "--base", os.path.join(pair.base, "model.safetensors"),
                                       "--finetuned", os.path.join(pair.finetuned, "model.safetensors"), "--ratio", str(ratio),
                                       "--calibration", calibration, "--out", path, "--json"], capture_output=True, text=True)
                if done.returncode != 0:
                    results.append({"method": method, "target": ratio, "error": done.stderr.strip()})
                    print(json.dumps(results[-1]), flush=True)
                    continue
                report = json.loads(done.stdout)
                configs = sorted({(t["selection"][0], t["groupSize"], t["bits"]) for t in report["tensors"] if t["kind"] == "deltadq"})
                ranked = [t for t in report["tensors"] if t["kind"] == "deltadq" and t.get("rank")]
                detail = (f"changed values at {report['changedRatio']:.1f}x; (selection, group, bits) "
                          + " ".join(f"{s}/{g}/{b}" for s, g, b in configs)
                          + (f"; low-rank part in {len(ranked)} tensors (rank {min(t['rank'] for t in ranked)}-{max(t['rank'] for t in ranked)})"
                             if ranked else ""))
                results.append(row(method, ratio, os.path.getsize(path), detail, score(pair.base, delta=path)))
                continue
            made = baseline(method, pair.changed, pair.shapes, pair.float_values, ratio, path)
            if made is None:
                results.append({"method": method, "target": ratio, "ratio": None, "detail": "out of reach"})
                print(json.dumps(results[-1]), flush=True)
                continue
            restored, size, detail = made
            model = model_with(pair.base, restored, os.path.join(work, f"{method}-{ratio:g}x"), pair.base_tensors)
            results.append(row(method, ratio, size, detail, score(model)))
            shutil.rmtree(model)
    return results

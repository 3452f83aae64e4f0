#!/usr/bin/env python3
"""Issue 31's delta table: the fine-tuned all-MiniLM-L6-v2 (`tools/finetune_minilm.py`) against its
base, compressed at 8x-128x by DeltaDQ (`onboard delta compress`, group size searched on
calibration inputs) and by the methods a user would pick instead, each scored on the held-out
retrieval task through `onboard embed`.

  /work/venv-lang/bin/python tools/delta_table.py [--onboard .build/release/onboard] [--base DIR]
      [--finetuned DIR] [--ratios 8 16 32 64 128] [--work DIR] [--threads 2] [--json OUT]

Ratio: the float weights' size at 16 bits (2 bytes x 22.7 M values) over the delta file's size on
disk; every method's file is written and measured. All methods get the same container (one
safetensors file; per changed tensor an i64 header, f16 scales and a u8 stream that starts with a
one-bit-a-row bitmap of the rows whose delta is not zero) and the same budget rule (what the file
may hold, less its headers, spread evenly over the changed values):
- DeltaDQ: `onboard delta compress --calibration` (magnitude-kept values in balanced groups,
  separate quantization, per-row f16 scales; served by `onboard embed --model BASE --delta D`).
- DARE + RTN: each changed value kept with probability p (seeded, so the mask costs nothing),
  kept values x 1/p, then b-bit symmetric round-to-nearest with per-row f16 scales; b in
  {2, 3, 4, 8} with the least weight error, p what the budget allows.
- BitDelta: the sign of every changed value (1 bit) and one f16 scale per matrix (mean |delta|);
  its size is fixed (about 14x): a ratio it cannot reach is n/a.
- RTN: every changed value at b-bit symmetric round-to-nearest with per-row f16 scales (b = 1:
  sign x mean |delta| of the row), b the most bits the budget allows; n/a below 1 bit.
Metric: held-out top-1 accuracy (300 queries against their 300 documents,
`Tests/Fixtures/text/retrieval-heldout-*.txt`) from `onboard embed` FP32 embeddings, and the
worst / mean cosine of the 600 embeddings to the fine-tuned model's. The base and fine-tuned rows
are cross-checked against sentence-transformers (`finetune_minilm.py`'s figures).
Calibration inputs: the inputs of every Linear of the base model on the first 64 training pairs
(`Calibration/text/retrieval-train.tsv`), 256 token rows each, captured with torch hooks.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from finetune_minilm import base_dir, held_out, read_lines, top1  # noqa: E402

BITS = (2, 3, 4, 8)


def capture_calibration(base, path):
    import torch
    from transformers import AutoModel, AutoTokenizer
    tokenizer, model = AutoTokenizer.from_pretrained(base), AutoModel.from_pretrained(base).eval()
    pairs = [line.split("\t") for line in read_lines("Calibration/text/retrieval-train.tsv")[:64]]
    texts = [t for pair in pairs for t in pair]
    rows = {}
    hooks = [module.register_forward_hook(lambda m, inputs, _, name=name: rows.setdefault(name, []).append(inputs[0].reshape(-1, inputs[0].shape[-1])))
             for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]
    with torch.no_grad():
        for text in texts:
            model(**tokenizer(text, return_tensors="pt"))
    for hook in hooks:
        hook.remove()
    out = {}
    for name, chunks in rows.items():
        x = torch.cat(chunks).numpy()
        out[f"{name}.weight"] = np.ascontiguousarray(x[np.linspace(0, len(x) - 1, 256).astype(int)], dtype=np.float32)
    save_file(out, path)


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


def write_container(path, entries, base_shape, method, ratio):
    """entries: name -> (rows, header ints, scales, packed codes); the layout DeltaDQ files use."""
    tensors = {}
    for name, (rows, header, scales, packed) in entries.items():
        n_rows = matrix(base_shape[name])[0]
        bitmap = np.zeros((n_rows + 7) // 8, np.uint8)
        np.bitwise_or.at(bitmap, rows // 8, (1 << (rows % 8)).astype(np.uint8))
        # As long as a DeltaDQ header: version, 8 fields, stream bits, rank, shape, checksum.
        fields = [3] + list(header) + [0] * (6 - len(header)) + list(matrix(base_shape[name])) + [8 * (len(bitmap) + len(packed))]
        tensors[f"{name}.header"] = np.array(fields + [len(base_shape[name])] + list(base_shape[name]) + [0], np.int64)
        tensors[f"{name}.scales"] = np.asarray(scales, np.float16).reshape(-1)
        tensors[f"{name}.stream"] = np.concatenate([bitmap, packed])
    save_file(tensors, path, metadata={"format": f"delta-table-{method}", "target_ratio": str(ratio), "base_fingerprint": "0" * 16,
                                       "content_checksum": "-0000000000000000000"})
    return os.path.getsize(path)


def baseline(method, changed, base_shape, float_values, ratio, path, seed=0):
    """Reconstructed deltas (name -> (rows, delta rows)) and the file size, or None if out of reach."""
    target = 2 * float_values / ratio
    values = sum(d.size for _, d in changed.values())
    overhead = 1024 + 560 * len(changed)
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
            rows, r = restored[name]
            view = t.reshape(matrix(b.shape))
            view[rows] += r.astype(view.dtype)
        tensors[name] = t
    save_file(tensors, os.path.join(out_dir, "model.safetensors"))
    return out_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    parser.add_argument("--base")
    parser.add_argument("--finetuned", default=os.path.expanduser("~/.cache/onboard/all-MiniLM-L6-v2-docstrings"))
    parser.add_argument("--ratios", type=float, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--methods", nargs="+", default=["deltadq", "dare", "bitdelta", "rtn"])
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "onboard-deltas"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    base = args.base or base_dir()
    os.makedirs(args.work, exist_ok=True)
    queries, documents = held_out()
    texts = os.path.join(args.work, "heldout.txt")
    with open(texts, "w", encoding="utf-8") as f:
        f.write("\n".join(queries + documents) + "\n")

    def embed(model, delta=None):
        out = os.path.join(args.work, "embeddings.safetensors")
        command = [args.onboard, "embed", "--model", model, "--text-file", texts, "--out", out, "--threads", str(args.threads)]
        subprocess.run(command + (["--delta", delta] if delta else []), check=True, capture_output=True, text=True)
        return load_file(out)["embeddings"]

    reference = embed(args.finetuned)
    n = len(queries)

    def row(method, ratio, size, detail, e):
        cosine = (e * reference).sum(1) / (np.linalg.norm(e, axis=1) * np.linalg.norm(reference, axis=1))
        result = {"method": method, "target": ratio, "ratio": None if size is None else 2 * float_values / size, "bytes": size,
                  "detail": detail, "top1": top1(e[:n], e[n:]), "worst_cosine": float(cosine.min()), "mean_cosine": float(cosine.mean())}
        print(json.dumps(result), flush=True)
        return result

    base_tensors = load_file(os.path.join(base, "model.safetensors"))
    tuned_tensors = load_file(os.path.join(args.finetuned, "model.safetensors"))
    changed, float_values = changed_tensors(base_tensors, tuned_tensors)
    shapes = {name: list(t.shape) for name, t in base_tensors.items()}
    print(f"{len(changed)} changed float tensors, {sum(d.size for _, d in changed.values())} of {float_values} values in changed rows",
          file=sys.stderr)
    results = [row("fine-tuned", None, None, "", reference), row("base", None, None, "", embed(base))]
    calibration = os.path.join(args.work, "calibration.safetensors")
    if "deltadq" in args.methods and not os.path.exists(calibration):
        capture_calibration(base, calibration)
    for ratio in args.ratios:
        for method in args.methods:
            path = os.path.join(args.work, f"{method}-{ratio:g}x.safetensors")
            if method == "deltadq":
                done = subprocess.run([args.onboard, "delta", "compress", "--base", os.path.join(base, "model.safetensors"),
                                       "--finetuned", os.path.join(args.finetuned, "model.safetensors"), "--ratio", str(ratio),
                                       "--calibration", calibration, "--out", path, "--json"], capture_output=True, text=True)
                if done.returncode != 0:
                    print(json.dumps({"method": method, "target": ratio, "error": done.stderr.strip()}), flush=True)
                    continue
                report = json.loads(done.stdout)
                configs = sorted({(t["groupSize"], t["bits"]) for t in report["tensors"] if t["kind"] == "deltadq"})
                detail = f"changed values at {report['changedRatio']:.1f}x; (group, bits) " + " ".join(f"{g}/{b}" for g, b in configs)
                results.append(row(method, ratio, os.path.getsize(path), detail, embed(base, delta=path)))
                continue
            made = baseline(method, changed, shapes, float_values, ratio, path)
            if made is None:
                results.append({"method": method, "target": ratio, "ratio": None, "detail": "out of reach"})
                print(json.dumps(results[-1]), flush=True)
                continue
            restored, size, detail = made
            model = model_with(base, restored, os.path.join(args.work, f"{method}-{ratio:g}x"), base_tensors)
            results.append(row(method, ratio, size, detail, embed(model)))
            shutil.rmtree(model)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

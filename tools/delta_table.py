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
import argparse, json, os, subprocess, sys, tempfile

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from delta_methods import Pair, compare  # noqa: E402
from finetune_minilm import base_dir, held_out, read_lines, top1  # noqa: E402

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--onboard", default=os.path.join(ROOT, ".build/release/onboard"))
    parser.add_argument("--base")
    parser.add_argument("--finetuned", default=os.path.expanduser("~/.cache/onboard/all-MiniLM-L6-v2-docstrings"))
    parser.add_argument("--ratios", type=float, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--methods", nargs="+", default=["deltadq", "dare", "bitdelta", "rtn"],
                        help="deltadq (selection and low-rank part searched per tensor), deltadq-plain (no low-rank part), deltadq-magnitude, deltadq-seeded, dare, bitdelta, rtn")
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

    pair = Pair(base, args.finetuned)
    float_values = pair.float_values
    results = [row("fine-tuned", None, None, "", reference), row("base", None, None, "", embed(base))]
    calibration = os.path.join(args.work, "calibration.safetensors")
    if any(m.startswith("deltadq") for m in args.methods) and not os.path.exists(calibration):
        capture_calibration(base, calibration)
    results += compare(args.onboard, pair, args.ratios, args.methods, args.work, calibration, embed, row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

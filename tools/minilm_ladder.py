#!/usr/bin/env python3
"""The all-MiniLM-L6-v2 quantization ladder: sentence-embedding fidelity of quantized runs to FP32.

  /work/venv-lang/bin/python tools/minilm_ladder.py [--model DIR] [--onboard PATH] [--text FILE]
      [--recipes ENTRY ...] [--onnx DIR] [--threads 2] [--json OUT]

An ENTRY is `R.json` (`--precision int8 --recipe R.json`), `PRECISION:R.json` (e.g.
`int8-integer:R.json`: `--precision int8-integer --recipe R.json`) or a bare PRECISION (no recipe).
Each runs `onboard embed --model DIR --text-file FILE --out X.safetensors --precision P [--recipe R]`
(`embeddings` [N, 384], L2-normalised) and is compared with the same command at `--precision fp32`.
The peer rows: ONNX Runtime's dynamic INT8 (tools/export_minilm_onnx.py's model_qint8.onnx,
exported into --onnx when missing; mean-pooled, normalised) against ORT FP32 (model.onnx), and ORT
FP32 against Onboard FP32 (the two references agree). ORT runs one sentence at a time: dynamic
INT8's activation ranges would otherwise span a padded batch (its worst cosine moves by ~0.004).
Without --recipes only the ORT rows run.
Metrics per row: worst and mean cosine to the reference; top-10 agreement (each sentence's 10
nearest other sentences by cosine, in the run vs in the reference: mean |intersection| / 10);
Spearman correlation of all pairwise similarities (upper triangle) between run and reference.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file
from scipy.stats import spearmanr

from export_minilm_onnx import DEFAULT_OUT, DEFAULT_TEXT, exported, model_directory, ort_embed, read_lines, session

TOP_K = 10


def fidelity(run: np.ndarray, reference: np.ndarray) -> dict:
    cosine = (run * reference).sum(1) / (np.linalg.norm(run, axis=1) * np.linalg.norm(reference, axis=1))
    sims = [e @ e.T for e in (run, reference)]
    for s in sims:
        np.fill_diagonal(s, -np.inf)
    neighbours = [np.argsort(-s, axis=1)[:, :TOP_K] for s in sims]
    agreement = np.mean([len(np.intersect1d(a, b)) / TOP_K for a, b in zip(*neighbours)])
    upper = np.triu_indices(len(run), k=1)
    return {"worst_cosine": float(cosine.min()), "mean_cosine": float(cosine.mean()),
            "top10_agreement": float(agreement), "spearman": float(spearmanr(sims[0][upper], sims[1][upper])[0])}


def parse_entry(entry: str) -> tuple[str, str | None]:
    if ":" in entry:
        precision, recipe = entry.split(":", 1)
        return precision, recipe
    return ("int8", entry) if entry.endswith(".json") else (entry, None)


def onboard_embed(args, work: str, index: int, precision: str, recipe: str | None) -> np.ndarray:
    out = os.path.join(work, f"embed-{index}.safetensors")
    command = [args.onboard, "embed", "--model", args.model, "--text-file", args.text, "--out", out,
               "--precision", precision] + (["--recipe", recipe] if recipe else [])
    p = subprocess.run(command, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{p.stderr}")
    return load_file(out)["embeddings"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model directory (default: $ONBOARD_MINILM_DIR or tools/fetch_minilm.sh)")
    ap.add_argument("--onboard", default=".build/release/onboard")
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--recipes", nargs="*", default=[], metavar="ENTRY")
    ap.add_argument("--onnx", default=DEFAULT_OUT, help="directory of tools/export_minilm_onnx.py's models")
    ap.add_argument("--threads", type=int, default=2, help="ORT intra-op threads")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    from transformers import AutoTokenizer

    args.model = args.model or model_directory()
    fp32, qint8 = exported(args.model, args.onnx)
    texts = read_lines(args.text)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    ort_fp32 = ort_embed(session(fp32, args.threads), tokenizer, texts, batch=1)
    rows = [{"run": "ORT dynamic INT8", "reference": "ORT FP32",
             **fidelity(ort_embed(session(qint8, args.threads), tokenizer, texts, batch=1), ort_fp32)}]
    if args.recipes:
        with tempfile.TemporaryDirectory(prefix="onboard-minilm-ladder-") as work:
            onboard_fp32 = onboard_embed(args, work, 0, "fp32", None)
            rows.insert(0, {"run": "ORT FP32", "reference": "Onboard FP32", **fidelity(ort_fp32, onboard_fp32)})
            for index, entry in enumerate(args.recipes, 1):
                precision, recipe = parse_entry(entry)
                run = onboard_embed(args, work, index, precision, recipe)
                name = f"Onboard {precision}" + (f" {os.path.basename(recipe)}" if recipe else "")
                rows.append({"run": name, "reference": "Onboard FP32", "precision": precision, "recipe": recipe,
                             **fidelity(run, onboard_fp32)})

    print(f"all-MiniLM-L6-v2 on {len(texts)} sentences of {args.text}")
    print("| run | reference | worst cosine | mean cosine | top-10 agreement | Spearman |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['reference']} | {r['worst_cosine']:.5f} | {r['mean_cosine']:.5f} "
              f"| {r['top10_agreement']:.4f} | {r['spearman']:.5f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sentences": len(texts), "text": args.text, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

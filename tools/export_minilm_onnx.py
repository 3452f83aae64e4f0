#!/usr/bin/env python3
"""all-MiniLM-L6-v2 to ONNX (FP32) and ONNX Runtime dynamic INT8, the peer of Onboard's BERT path.

  /work/venv-lang/bin/python tools/export_minilm_onnx.py [--model DIR] [--out DIR] [--lines 20]

Exports the model directory's BertModel (transformers, FP32, eval, eager attention) with the
legacy TorchScript exporter, opset 17: inputs input_ids, attention_mask, token_type_ids (int64,
dynamic batch and sequence), output last_hidden_state -> OUT/model.onnx. Then ORT's
quantize_dynamic as sentence-transformers' export_dynamic_quantized_onnx_model makes the model's
hub exports (optimum's config: QUInt8 asymmetric dynamic activations, QInt8 symmetric per-channel
weights, no reduced range) -> OUT/model_qint8.onnx.
Check: ORT FP32 mean-pooled, L2-normalised embeddings against sentence-transformers (cosine >=
0.99999) on the first LINES of Tests/Fixtures/text/debian-descriptions.txt, and the INT8 model's
worst / mean cosine to FP32 there (one sentence per run). OUT defaults to
$TMPDIR/onboard-minilm-onnx; the model directory to $ONBOARD_MINILM_DIR or what tools/fetch_minilm.sh
prints.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(tempfile.gettempdir(), "onboard-minilm-onnx")
DEFAULT_TEXT = os.path.join(ROOT, "Tests/Fixtures/text/debian-descriptions.txt")
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length


def model_directory() -> str:
    return os.environ.get("ONBOARD_MINILM_DIR") or subprocess.run(
        [os.path.join(ROOT, "tools/fetch_minilm.sh")], capture_output=True, text=True, check=True).stdout.strip()


def read_lines(path: str, count: int | None = None) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()[:count]


def session(path: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def ort_embed(sess: ort.InferenceSession, tokenizer, texts: list[str], batch: int = 32) -> np.ndarray:
    """Mean-pooled (over the attention mask), L2-normalised sentence embeddings [N, 384]."""
    out = []
    for start in range(0, len(texts), batch):
        enc = tokenizer(texts[start:start + batch], padding=True, truncation=True, max_length=MAX_TOKENS,
                        return_tensors="np")
        feeds = {name: enc[name].astype(np.int64) for name in INPUTS}
        hidden = sess.run(["last_hidden_state"], feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
    return np.concatenate(out).astype(np.float32)


def export(model_dir: str, out: str) -> tuple[str, str]:
    import torch
    from transformers import BertModel

    os.makedirs(out, exist_ok=True)
    fp32, qint8 = os.path.join(out, "model.onnx"), os.path.join(out, "model_qint8.onnx")
    bert = BertModel.from_pretrained(model_dir, attn_implementation="eager", add_pooling_layer=False).eval()

    class Encoder(torch.nn.Module):  # positional inputs in INPUTS' order, one output
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.randint(1000, 30000, (2, 16))
    example = (ids, torch.ones_like(ids), torch.zeros_like(ids))
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "token_type_ids": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"}}
    with torch.no_grad():
        torch.onnx.export(Encoder(), example, fp32, input_names=INPUTS, output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    quantize_dynamic(fp32, qint8, per_channel=True, reduce_range=False, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Attention", "Gather", "Transpose", "EmbedLayerNormalization",
                                           "Conv", "LSTM"])
    return fp32, qint8


def exported(model_dir: str, out: str) -> tuple[str, str]:
    """The FP32 and dynamic-INT8 models in `out`, exported first when either is missing."""
    fp32, qint8 = os.path.join(out, "model.onnx"), os.path.join(out, "model_qint8.onnx")
    if os.path.exists(fp32) and os.path.exists(qint8):
        return fp32, qint8
    return export(model_dir, out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model directory (default: $ONBOARD_MINILM_DIR or tools/fetch_minilm.sh)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    model_dir = args.model or model_directory()
    fp32, qint8 = export(model_dir, args.out)
    texts = read_lines(args.text, args.lines)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    reference = SentenceTransformer(model_dir, device="cpu").encode(texts, convert_to_numpy=True)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    fp32_session = session(fp32, args.threads)
    fp32_cos = (ort_embed(fp32_session, tokenizer, texts) * reference).sum(1)  # one padded batch: checks the mask
    # INT8 one sentence at a time (as tools/minilm_ladder.py): dynamic activation ranges would span a padded batch
    int8_cos = (ort_embed(session(qint8, args.threads), tokenizer, texts, batch=1)
                * ort_embed(fp32_session, tokenizer, texts, batch=1)).sum(1)
    print(f"{fp32} ({os.path.getsize(fp32) / 1e6:.1f} MB), {qint8} ({os.path.getsize(qint8) / 1e6:.1f} MB)")
    print(f"ORT FP32 vs sentence-transformers, {len(texts)} sentences: worst cosine {fp32_cos.min():.7f}")
    print(f"ORT dynamic INT8 vs ORT FP32: worst cosine {int8_cos.min():.5f}, mean {int8_cos.mean():.5f}")
    if fp32_cos.min() < 0.99999:
        sys.exit("ORT FP32 does not match sentence-transformers (cosine < 0.99999)")


if __name__ == "__main__":
    main()

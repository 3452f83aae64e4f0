#!/usr/bin/env python3
"""Golden sentence embeddings of the real all-MiniLM-L6-v2 from sentence-transformers (FP32), for
Tests/Fixtures/text/minilm_reference.safetensors:
- `embeddings` [N, 384]: SentenceTransformer(dir).encode(texts, normalize as the model's modules do);
- `input_ids` (flat, i32) and `lengths` [N]: the fast tokenizer's ids as sentence-transformers feeds them.
The texts: the first 24 lines of Tests/Fixtures/text/debian-descriptions.txt (nothing is tuned on
them) and a few written here to reach the edges (accents, CJK, truncation at 256 tokens).
Needs torch, transformers and sentence-transformers (a venv outside the repo); the model directory
is $ONBOARD_MINILM_DIR or what tools/fetch_minilm.sh prints.
"""
import json, os, subprocess
import numpy as np
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_dir = os.environ.get("ONBOARD_MINILM_DIR") or subprocess.run(
    [f"{ROOT}/tools/fetch_minilm.sh"], capture_output=True, text=True, check=True).stdout.strip()

with open(f"{ROOT}/Tests/Fixtures/text/debian-descriptions.txt", encoding="utf-8") as f:
    texts = f.read().splitlines()[:24]
texts += [
    "Café crème, naïve façade — Ångström über alles!",
    "北京是中国的首都。東京は日本の首都です。서울은 한국의 수도입니다.",
    "  leading and trailing spaces are stripped  ",
    "x",
    " ".join(f"word{i} and more text" for i in range(120)),  # far beyond 256 tokens
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis.",
]
model = SentenceTransformer(model_dir, device="cpu")
assert model.max_seq_length == 256
embeddings = model.encode(texts, batch_size=8, convert_to_numpy=True, normalize_embeddings=False)
features = [model.tokenize([t])["input_ids"][0].numpy() for t in texts]
lengths = np.array([len(ids) for ids in features], dtype=np.int32)
assert lengths.max() == 256
save_file({"embeddings": embeddings.astype(np.float32),
           "input_ids": np.concatenate(features).astype(np.int32),
           "lengths": lengths},
          f"{ROOT}/Tests/Fixtures/text/minilm_reference.safetensors")
with open(f"{ROOT}/Tests/Fixtures/text/minilm_reference.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(texts) + "\n")
print(f"{len(texts)} sentences, lengths {lengths.min()}..{lengths.max()}, norms {np.linalg.norm(embeddings, axis=1).min():.6f}")

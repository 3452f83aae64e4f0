#!/usr/bin/env python3
"""Fine-tunes every weight of all-MiniLM-L6-v2 on the docstring retrieval task
(`tools/make_retrieval_set.py`: a stdlib name -> the first sentence of its docstring) and writes the
fine-tuned model directory (issue 31's real fine-tune, the pair its deltas are made from).

Training: in-batch negatives (sentence-transformers' MultipleNegativesRankingLoss, scale 20) on
mean-pooled, L2-normalised embeddings, batch 32, AdamW lr 5e-5 without weight decay (10 warm-up
steps, linear decay),
150 steps over `Calibration/text/retrieval-train.tsv`, dropout as in training BERT, seed 0,
2 threads, deterministic algorithms: the same torch build, thread count and CPU should give the
same bits (two runs here printed the same losses through step 51; the weights' bits were not
compared); another build, thread count or ISA sums floats in another order, so the weights differ
in their last bits.

The output directory is the base's files with `model.safetensors` replaced: the same tensor names,
dtypes and shapes (`embeddings.position_ids` int64 and the unused pooler are copied as they are).
It prints the held-out top-1 accuracy of the base and of the fine-tuned model, computed by
sentence-transformers (the Python cross-check of `tools/delta_table.py`'s Onboard figures).
Venv: /work/venv-lang. About 3 minutes on 2 cores.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def base_dir():
    return os.environ.get("ONBOARD_MINILM_DIR") or subprocess.run(
        [f"{ROOT}/tools/fetch_minilm.sh"], capture_output=True, text=True, check=True).stdout.strip()


def read_lines(path):
    with open(f"{ROOT}/{path}", encoding="utf-8") as f:
        return f.read().splitlines()


def held_out():
    return (read_lines("Tests/Fixtures/text/retrieval-heldout-queries.txt"),
            read_lines("Tests/Fixtures/text/retrieval-heldout-documents.txt"))


def top1(queries, documents):
    """Share of queries whose most similar document (cosine) is the one on the same line."""
    similarity = np.asarray(queries) @ np.asarray(documents).T
    return float((similarity.argmax(axis=1) == np.arange(len(queries))).mean())


def sentence_transformers_top1(model_dir):
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(model_dir, device="cpu")
    queries, documents = held_out()
    return top1(model.encode(queries, normalize_embeddings=True), model.encode(documents, normalize_embeddings=True))


def embed(model, tokenizer, texts):
    batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def train(base, steps, batch, lr, seed):
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base)
    model.train()
    pairs = [line.split("\t") for line in read_lines("Calibration/text/retrieval-train.tsv")]
    # No weight decay: rows the task never reaches (most word embeddings, positions past the longest
    # text) then keep the base's exact bits, as a sparse fine-tune's delta should; decay would shrink
    # every row a little and make all of them "changed".
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    warmup = 10
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / (steps - warmup)))
    generator = np.random.default_rng(seed)
    order, cursor, start = generator.permutation(len(pairs)), 0, time.time()
    for step in range(steps):
        if cursor + batch > len(order):
            order, cursor = generator.permutation(len(pairs)), 0
        chosen = [pairs[i] for i in order[cursor:cursor + batch]]
        cursor += batch
        q = embed(model, tokenizer, [p[0] for p in chosen])
        d = embed(model, tokenizer, [p[1] for p in chosen])
        loss = torch.nn.functional.cross_entropy(20.0 * q @ d.T, torch.arange(len(chosen)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps}  loss {loss.item():.4f}  {time.time() - start:.0f} s", file=sys.stderr, flush=True)
    return model


def write_model(base, model, out):
    """The base directory with model.safetensors holding the trained values under the base's names."""
    original = load_file(os.path.join(base, "model.safetensors"))
    trained = model.state_dict()
    tensors = {}
    for name, tensor in original.items():
        source = trained.get(name, tensor)
        tensors[name] = source.detach().to(tensor.dtype).contiguous() if tensor.is_floating_point() else tensor
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".finetune-", dir=parent)
    try:
        for entry in os.listdir(base):
            if entry != "model.safetensors":
                (shutil.copytree if os.path.isdir(os.path.join(base, entry)) else shutil.copy2)(
                    os.path.join(base, entry), os.path.join(staging, entry))
        save_file(tensors, os.path.join(staging, "model.safetensors"), metadata={"format": "pt"})
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.expanduser("~/.cache/onboard/all-MiniLM-L6-v2-docstrings"))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = base_dir()
    model = train(base, args.steps, args.batch, args.lr, args.seed)
    write_model(base, model, args.out)
    result = {"base": base, "finetuned": args.out,
              "top1_base": sentence_transformers_top1(base), "top1_finetuned": sentence_transformers_top1(args.out)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

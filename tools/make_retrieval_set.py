#!/usr/bin/env python3
"""Writes the retrieval task the MiniLM fine-tune (issue 31) is trained and scored on, from text that
ships in Debian (CPython's standard library as libpython3.x-stdlib installs it; no network):

- query: a public function or class's dotted name (`os.path.join`);
- document: the first sentence of its docstring.

Pairs are de-duplicated (one name per sentence), ordered by a hash, and split: the first 300 are the
held-out set (`Tests/Fixtures/text/retrieval-heldout-{queries,documents}.txt`, line i of one pairs
with line i of the other), the rest the training set (`Calibration/text/retrieval-train.tsv`,
name TAB sentence). Top-1 accuracy: the share of held-out queries whose most similar held-out
document is their own. Docstring first sentences overlap `Calibration/text/python-docstrings.txt`
(the INT8 calibration set), never the held-out Debian descriptions the ladder is scored on.
"""
import hashlib, importlib, inspect, os, re, sys, warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELD_OUT = 300


def pairs():
    warnings.simplefilter("ignore")
    by_sentence = {}
    for module_name in sorted(sys.stdlib_module_names):
        if module_name.startswith("_") or module_name in {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"}:
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception:
            continue
        for name, member in inspect.getmembers(module):
            public = not name.startswith("_") and getattr(member, "__module__", None) == module_name
            if not public or not (inspect.isfunction(member) or inspect.isclass(member) or inspect.isbuiltin(member)):
                continue
            paragraph = " ".join((inspect.getdoc(member) or "").split("\n\n")[0].split())
            sentence = re.split(r"(?<=[.!?])\s", paragraph)[0]
            if 4 <= len(sentence.split()) <= 60 and sentence.isprintable() and sentence[0].isupper():
                by_sentence.setdefault(sentence, f"{module_name}.{name}")
    return sorted(((q, d) for d, q in by_sentence.items()), key=lambda p: hashlib.sha256("\t".join(p).encode()).hexdigest())


def write(path, lines):
    with open(f"{ROOT}/{path}", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {len(lines)} lines")


everything = pairs()
if len(everything) < HELD_OUT + 600:
    sys.exit(f"only {len(everything)} pairs")
held, train = everything[:HELD_OUT], everything[HELD_OUT:]
write("Tests/Fixtures/text/retrieval-heldout-queries.txt", [q for q, _ in held])
write("Tests/Fixtures/text/retrieval-heldout-documents.txt", [d for _, d in held])
write("Calibration/text/retrieval-train.tsv", [f"{q}\t{d}" for q, d in train])

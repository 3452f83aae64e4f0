#!/usr/bin/env python3
"""Writes the language path's text sets from text that ships in Debian packages (no network):

- Calibration/text/python-docstrings.txt: calibration sentences, the first sentence of the
  docstrings of CPython's standard library as Debian ships it (libpython3.x-stdlib, read with
  this interpreter's `inspect`), 512 lines.
- Tests/Fixtures/text/debian-descriptions.txt: the evaluation / retrieval set, the sentences of
  the long descriptions of the Debian packages installed here (`dpkg-query`), 600 lines.

The two sources never overlap, so no calibration sentence is an evaluation sentence. Lines are
de-duplicated, 4 to 60 words, sorted by a hash so that any prefix is a fair sample.
"""
import hashlib, importlib, inspect, pkgutil, re, subprocess, sys, warnings

ROOT = __import__("os").path.dirname(__import__("os").path.dirname(__import__("os").path.abspath(__file__)))


def keep(sentence):
    words = sentence.split()
    return 4 <= len(words) <= 60 and sentence.isprintable() and not sentence.startswith(("http", "-", "*", "|"))


def ordered(sentences, count):
    unique = sorted(set(sentences), key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    if len(unique) < count:
        sys.exit(f"only {len(unique)} sentences, need {count}")
    return unique[:count]


def docstring_sentences():
    warnings.simplefilter("ignore")
    out = []
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"}:
            continue
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        for _, member in inspect.getmembers(module):
            if not (inspect.isfunction(member) or inspect.isclass(member) or inspect.isbuiltin(member)):
                continue
            doc = inspect.getdoc(member) or ""
            paragraph = " ".join(doc.split("\n\n")[0].split())
            first = re.split(r"(?<=[.!?])\s", paragraph)[0]
            if keep(first) and first[0].isupper() and "(" not in first[:20]:
                out.append(first)
    return out


def description_sentences():
    text = subprocess.run(["dpkg-query", "-W", "-f", "${Description}\n\n"], capture_output=True, text=True, check=True).stdout
    out = []
    for block in text.split("\n\n"):
        lines = block.split("\n")[1:]  # the summary line is a title, not a sentence
        prose = " ".join(l.strip() for l in lines if l.strip() and l.strip() != "." and not l.strip().startswith(("-", "*", "+")))
        for sentence in re.split(r"(?<=[.!?])\s+", prose):
            if keep(sentence) and sentence[0].isupper():
                out.append(sentence)
    return out


def write(path, lines):
    with open(f"{ROOT}/{path}", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {len(lines)} lines")


write("Calibration/text/python-docstrings.txt", ordered(docstring_sentences(), 512))
write("Tests/Fixtures/text/debian-descriptions.txt", ordered(description_sentences(), 600))

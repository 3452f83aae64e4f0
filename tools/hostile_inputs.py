#!/usr/bin/env python3
"""Hostile and faulty inputs against the built `onboard`, tried as a new user would.

Each case runs one command and is judged on what a user would see:
  crash      killed by a signal (or an exit status of 128 and above it did not mean);
  hang       still running after the time limit;
  destroyed  a file or directory the run did not create changed or vanished;
  partial    temporaries, staging directories or half-written outputs left behind;
  accepted   exit 0 on input that must be refused;
  unclear    not one `onboard: ...` line naming the expected item, or the wrong exit status.
Prints a table per category and exits 1 when any count is not zero.

    tools/hostile_inputs.py [--onboard .build/debug/onboard] [--only CATEGORY] [--json]
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import stat
import struct
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIT = os.path.join(ROOT, "Tests/Fixtures/vit/cls_token")
QPETR = os.path.join(ROOT, "Configs/models/qpetr-demo")
OUTCOMES = ["crash", "hang", "destroyed", "partial", "accepted", "unclear"]


def digest(path):
    """Content of a file or a directory tree (names, link targets, bytes), or None if absent."""
    h = hashlib.sha256()
    if os.path.islink(path):
        h.update(b"link:" + os.readlink(path).encode())
        return h.hexdigest()
    if os.path.isfile(path):
        with open(path, "rb") as f:
            h.update(f.read())
        return h.hexdigest()
    if os.path.isdir(path):
        for base, dirs, files in sorted(os.walk(path)):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(base, name)
                h.update(os.path.relpath(full, path).encode() + b"\0")
                h.update((digest(full) or "").encode())
        return h.hexdigest()
    if os.path.exists(path):
        return "special:%o" % os.stat(path).st_mode
    return None


def leftovers(directory):
    """Temporaries and hidden staging entries under a directory (recursively)."""
    found = []
    for base, dirs, files in os.walk(directory):
        for name in dirs + files:
            if ".tmp-" in name or name.endswith(".old") or name.startswith(".onboard"):
                found.append(os.path.join(base, name))
    return found


class Harness:
    def __init__(self, onboard, work):
        self.onboard, self.work = onboard, work
        self.results = []

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def run(self, args, timeout=60, interrupt=None):
        """Runs onboard; `interrupt` = (seconds, signal) sends the signal after that long."""
        started = time.time()
        process = subprocess.Popen([self.onboard] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, cwd=self.work)
        if interrupt:
            try:
                process.wait(interrupt[0])
            except subprocess.TimeoutExpired:
                process.send_signal(interrupt[1])
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None, "", "", time.time() - started
        return process.returncode, out.decode(errors="replace"), err.decode(errors="replace"), time.time() - started

    def case(self, category, name, args, expect="error", contains=(), protect=(), watch=(), timeout=60,
             interrupt=None, check=None):
        """expect: "error" (exit 1 or 2, one named error line), "ok" (exit 0), or "interrupted"
        (130/143, or 0 if it finished first). `protect`: paths whose content must not change.
        `watch`: directories that must hold no temporaries afterwards. `check`: a callable giving an
        extra problem (outcome, text) or None."""
        before = {p: digest(p) for p in protect}
        earlier = {p for d in watch for p in leftovers(d)}
        status, out, err, seconds = self.run(args, timeout, interrupt)
        outcome, detail = "ok", ""
        lines = [line for line in err.splitlines() if line.strip()]
        expected_signal = interrupt and status in (128 + interrupt[1], -interrupt[1])
        if status is None:
            outcome, detail = "hang", "no exit after %ds" % timeout
        elif (status < 0 or status >= 128) and not expected_signal:
            outcome, detail = "crash", "status %d: %s" % (status, (lines[-1] if lines else "")[:160])
        else:
            changed = [p for p in protect if digest(p) != before[p]]
            left = [p for d in watch for p in leftovers(d) if p not in earlier]
            if changed:
                outcome, detail = "destroyed", ", ".join(os.path.relpath(p, self.work) for p in changed)
            elif left:
                outcome, detail = "partial", ", ".join(os.path.relpath(p, self.work) for p in left)
            elif expect == "error" and status == 0:
                outcome, detail = "accepted", "exit 0"
            elif expect == "error":
                last = lines[-1] if lines else ""
                missing = [c for c in contains if c not in last]
                if status not in (1, 2) or not last.startswith("onboard: ") or missing:
                    outcome, detail = "unclear", "status %s: %r (wanted %s)" % (status, last[:200], contains)
            elif expect == "ok" and (status != 0 or any(c not in err for c in contains)):
                outcome, detail = "unclear", "status %s: %s (wanted %s)" % (status, (lines[-1] if lines else "")[:200], contains)
            elif expect == "interrupted" and status not in (0, 130, 143) and not expected_signal:
                outcome, detail = "unclear", "status %s after the signal: %s" % (status, (lines[-1] if lines else "")[:200])
            if outcome == "ok" and check:
                problem = check()
                if problem:
                    outcome, detail = problem
        self.results.append({"category": category, "case": name, "outcome": outcome, "detail": detail,
                             "seconds": round(seconds, 2)})
        mark = "ok " if outcome == "ok" else outcome.upper()
        print("%-9s %-12s %s%s" % (mark, category, name, (": " + detail) if detail else ""), file=sys.stderr)


# ---------------------------------------------------------------- materials


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)


def copy_tree(source, target):
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def safetensors(path, header, payload=b""):
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + payload)
    return path


def prepare(h):
    """A ViT bundle, its calibration set, a one-sample 6-camera set, results and a delta."""
    copy_tree(VIT, h.path("vit"))
    os.makedirs(h.path("calibration"))
    shutil.copy(os.path.join(VIT, "inputs.safetensors"), h.path("calibration", "0.safetensors"))
    status, _, err, _ = h.run(["synth", "--out", h.path("data"), "--scenes", "2", "--samples-per-scene", "1",
                               "--seed", "3", "--rig", "demo-6cam"])
    assert status == 0, err
    status, _, err, _ = h.run(["detect", "--model", QPETR, "--data", h.path("data"), "--out", h.path("results.json")])
    assert status == 0, err
    shutil.copy(h.path("results.json"), h.path("results-kept.json"))  # a copy no case writes to
    status, _, err, _ = h.run(["quantize", "--model", h.path("vit"), "--calibration", h.path("calibration"),
                               "--out", h.path("vit-int8")])
    assert status == 0, err
    # A fine-tune of the fixture's weights: one run of values changed.
    base, finetuned = h.path("vit", "model.safetensors"), h.path("finetuned.safetensors")
    shutil.copy(base, finetuned)
    with open(finetuned, "r+b") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        f.seek(8 + length + 64)
        f.write(bytes(64 * [0x3C]))
    status, _, err, _ = h.run(["delta", "compress", "--base", base, "--finetuned", finetuned, "--ratio", "8",
                               "--out", h.path("delta.bin")])
    assert status == 0, err


def edited_table(h, name, table, edit):
    """A copy of the camera set with one table edited in place by `edit(records)`."""
    data = copy_tree(h.path("data"), h.path(name))
    tables = [d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d, "")) and d.startswith("v1.0")]
    path = os.path.join(data, tables[0], table + ".json")
    with open(path) as f:
        records = json.load(f)
    edit(records)
    write_json(path, records)
    return data


# ---------------------------------------------------------------- cases


def outputs(h):
    """--out onto what the run did not create."""
    model, inputs = h.path("vit"), os.path.join(VIT, "inputs.safetensors")
    folder = h.path("a-folder")
    os.makedirs(folder)
    with open(os.path.join(folder, "notes.txt"), "w") as f:
        f.write("keep me")
    file_commands = {
        "run": ["run", "--model", model, "--inputs", inputs, "--out"],
        "detect": ["detect", "--model", QPETR, "--data", h.path("data"), "--out"],
        "eval": ["eval", "--data", h.path("data"), "--version", "v1.0-synth", "--split", "synth_train",
                 "--results", h.path("results.json"), "--out"],
        "preprocess": ["preprocess", "--images", first_image(h), "--out"],
        "delta compress": ["delta", "compress", "--base", h.path("vit/model.safetensors"), "--finetuned",
                           h.path("vit/model.safetensors"), "--ratio", "8", "--out"],
        "delta apply": ["delta", "apply", "--base", h.path("vit/model.safetensors"), "--delta", h.path("delta.bin"), "--out"],
    }
    # A character device of our own (root only: mknod), so a run that replaces it cannot take /dev/null.
    device = h.path("null-device")
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        device = None
        print("note: not root, so no device node to write onto; those cases are left out", file=sys.stderr)
    for command, args in file_commands.items():
        h.case("outputs", command + " --out an existing directory", args + [folder], contains=[folder],
               protect=[folder], watch=[h.work])
        if device:
            h.case("outputs", command + " --out a character device", args + [device], contains=[device], protect=[device])
        fifo = h.path("fifo-" + command.replace(" ", "-"))
        os.mkfifo(fifo)
        h.case("outputs", command + " --out a FIFO", args + [fifo], contains=[fifo], timeout=30, protect=[fifo])
    # Cases that aim at an input get copies of their own, so a run that destroys one spoils no later case.
    victim = copy_tree(VIT, h.path("vit-victim"))
    weights = os.path.join(victim, "model.safetensors")
    h.case("outputs", "run --out the model's weights", ["run", "--model", victim, "--inputs", inputs, "--out", weights],
           protect=[victim])
    victim = copy_tree(VIT, h.path("vit-victim"))
    h.case("outputs", "delta apply --out the base", ["delta", "apply", "--base", weights, "--delta", h.path("delta.bin"),
                                                      "--out", weights], protect=[victim])
    shutil.copy(h.path("results-kept.json"), h.path("results-victim.json"))
    h.case("outputs", "eval --out the results", file_commands["eval"][:-3] + ["--results", h.path("results-victim.json"), "--out",
                                                                              h.path("results-victim.json")],
           protect=[h.path("results-victim.json")])
    target = h.path("link-target.safetensors")
    shutil.copy(inputs, target)
    os.symlink(target, h.path("link.safetensors"))
    h.case("outputs", "run --out a symbolic link (written through)", file_commands["run"] + [h.path("link.safetensors")],
           expect="ok", check=lambda: None if os.path.islink(h.path("link.safetensors")) else ("destroyed", "the link was replaced"))

    project = h.path("project")
    os.makedirs(project)
    write_json(os.path.join(project, "config.json"), {"mine": True})
    with open(os.path.join(project, "main.py"), "w") as f:
        f.write("print('a user project')\n")
    quantize = ["quantize", "--model", model, "--calibration", h.path("calibration"), "--out"]
    h.case("outputs", "quantize --out a foreign folder holding config.json", quantize + [project], contains=[project],
           protect=[project], watch=[h.work])
    victim = copy_tree(VIT, h.path("vit-victim"))
    quantize_victim = ["quantize", "--model", victim, "--calibration", h.path("calibration"), "--out"]
    h.case("outputs", "quantize --out the model", quantize_victim + [victim], contains=[victim], protect=[victim])
    victim = copy_tree(VIT, h.path("vit-victim"))
    h.case("outputs", "quantize --out inside the model", quantize_victim + [os.path.join(victim, "int8")], protect=[victim])
    h.case("outputs", "quantize --out the calibration set", quantize + [h.path("calibration")], protect=[h.path("calibration")])
    h.case("outputs", "quantize --out a folder with notes", quantize + [folder], protect=[folder])
    h.case("outputs", "quantize onto its own earlier output", quantize + [h.path("vit-int8")], expect="ok", watch=[h.work])
    h.case("outputs", "synth --out an existing folder", ["synth", "--out", folder, "--scenes", "1", "--samples-per-scene", "1",
                                                          "--seed", "1"], protect=[folder])
    report = h.path("report")
    os.makedirs(report)
    write_json(os.path.join(report, "report.json"), {"mine": True})
    with open(os.path.join(report, "thesis.tex"), "w") as f:
        f.write("a user's file")
    h.case("outputs", "validate --out a folder holding report.json and more",
           ["validate", "--model", QPETR, "--data", h.path("data"), "--calibration", h.path("data"),
            "--calibration-samples", "1", "--out", report], protect=[report])
    h.case("outputs", "validate --out the data", ["validate", "--model", QPETR, "--data", h.path("data"), "--calibration",
                                                   h.path("data"), "--out", h.path("data")], protect=[h.path("data")])


def first_image(h):
    for base, _, files in sorted(os.walk(h.path("data", "samples"))):
        for name in sorted(files):
            if name.endswith(".jpg"):
                return os.path.join(base, name)
    raise SystemExit("no camera image in the prepared set")


def crashes(h):
    """Integer arithmetic, allocation sizes, nesting and special files from the user."""
    model = h.path("vit")
    h.case("crash", "bench --batch 2^62", ["bench", "--model", model, "--batch", "4611686018427387904"], contains=["batch"])
    h.case("crash", "bench --iterations -1", ["bench", "--model", model, "--iterations", "-1"])
    h.case("crash", "run --threads 1000000 (clamped)", ["run", "--model", model, "--inputs", os.path.join(VIT, "inputs.safetensors"),
                                                        "--out", h.path("clamped.safetensors"), "--threads", "1000000"], expect="ok")
    for field, value in [("num_query", 2 ** 40), ("num_classes", 2 ** 40), ("depth_num", 2 ** 62), ("num_cameras", 2 ** 40),
                         ("image_size", [2 ** 31, 2 ** 31]), ("image_size", [0, 320]), ("num_query", -1), ("depth_num", 4.5),
                         ("num_classes", "ten"), ("embed_dims", 2 ** 33), ("num_layers", 10 ** 6)]:
        bundle = copy_tree(QPETR, h.path("petr-%s" % field))
        with open(os.path.join(bundle, "config.json")) as f:
            config = json.load(f)
        (config["head"] if field in config["head"] else config)[field] = value
        write_json(os.path.join(bundle, "config.json"), config)
        h.case("crash", "PETR config %s = %s" % (field, json.dumps(value)), ["profile", "--model", bundle, "--runs", "1"],
               contains=[field], timeout=60)
        shutil.rmtree(bundle)
    for field, value in [("embed_dim", 2 ** 40), ("patch_size", 0), ("image_size", [2 ** 31, 2 ** 31]), ("image_size", [0, 0]),
                         ("depth", -3), ("num_heads", 0), ("num_heads", 5), ("mlp_hidden_dim", 2 ** 62), ("num_classes", 2 ** 40),
                         ("in_chans", 0), ("layer_norm_eps", "tiny")]:
        bundle = copy_tree(VIT, h.path("vit-%s" % field))
        with open(os.path.join(bundle, "config.json")) as f:
            config = json.load(f)
        config[field] = value
        write_json(os.path.join(bundle, "config.json"), config)
        h.case("crash", "ViT config %s = %s" % (field, json.dumps(value)), ["bench", "--model", bundle, "--iterations", "1"],
               contains=[field])
        shutil.rmtree(bundle)
    board = h.path("deep.yaml")
    with open(board, "w") as f:
        f.write("[" * 100000 + "]" * 100000 + "\n")
    h.case("crash", "board YAML nested 100000 deep", ["profile", "--model", model, "--board", board, "--runs", "1"], contains=["deep.yaml"])
    deep = h.path("deep.json")
    with open(deep, "w") as f:
        f.write("[" * 100000 + "]" * 100000)
    h.case("crash", "recipe JSON nested 100000 deep", ["quantize", "--model", model, "--calibration", h.path("calibration"),
                                                       "--recipe", deep, "--out", h.path("q-deep")], contains=["deep.json"])
    fifo = h.path("inspect.fifo")
    os.mkfifo(fifo)
    h.case("crash", "inspect a FIFO", ["inspect", fifo], contains=[fifo], timeout=20)
    h.case("crash", "inspect /dev/zero", ["inspect", "/dev/zero"], contains=["/dev/zero"], timeout=20)
    h.case("crash", "run --inputs /dev/urandom", ["run", "--model", model, "--inputs", "/dev/urandom", "--out", h.path("x.safetensors")],
           timeout=20)
    with open(h.path("delta.bin"), "rb") as f:
        delta = f.read()
    for offset in [8, 12, 16, 24, 40, len(delta) // 2, len(delta) - 1]:
        for value in [0xFF, 0x00, 0x41]:
            tampered = h.path("tampered.bin")
            with open(tampered, "wb") as f:
                f.write(delta[:offset] + bytes([value]) + delta[offset + 1:])
            if digest(tampered) == digest(h.path("delta.bin")):
                continue
            h.case("crash", "delta with byte %d set to 0x%02X" % (offset, value),
                   ["delta", "apply", "--base", h.path("vit/model.safetensors"), "--delta", tampered, "--out", h.path("applied.safetensors")],
                   contains=["tampered.bin"], watch=[h.work])
    for cut in [0, 4, 9, len(delta) // 3]:
        truncated = h.path("truncated.bin")
        with open(truncated, "wb") as f:
            f.write(delta[:cut])
        h.case("crash", "delta truncated to %d bytes" % cut,
               ["delta", "apply", "--base", h.path("vit/model.safetensors"), "--delta", truncated, "--out", h.path("applied.safetensors")],
               contains=["truncated.bin"])


def safetensors_cases(h):
    """Malformed safetensors headers given as a model's inputs."""
    cases = {
        "empty file": b"",
        "length only": struct.pack("<Q", 100),
        "length 2^63": struct.pack("<Q", 2 ** 63) + b"{}",
        "header not JSON": struct.pack("<Q", 5) + b"hello",
        "header a list": struct.pack("<Q", 2) + b"[]",
    }
    for name, raw in cases.items():
        path = h.path("bad.safetensors")
        with open(path, "wb") as f:
            f.write(raw)
        h.case("safetensors", name, ["inspect", path], contains=["bad.safetensors"])
    headers = {
        "offsets past the end": {"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1 << 40]}},
        "shape product overflows": {"x": {"dtype": "F32", "shape": [2 ** 32, 2 ** 32, 2 ** 32], "data_offsets": [0, 16]}},
        "negative dimension": {"x": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}},
        "unknown dtype": {"x": {"dtype": "F31", "shape": [4], "data_offsets": [0, 16]}},
        "offsets reversed": {"x": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}},
        "size differs from shape": {"x": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}},
        "overlapping tensors": {"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                "y": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}},
        "metadata not strings": {"__metadata__": {"a": 1}, "x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
    }
    for name, header in headers.items():
        path = safetensors(h.path("bad.safetensors"), header, bytes(32))
        h.case("safetensors", name, ["inspect", path], contains=["bad.safetensors"])
    raw = b'{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
    path = safetensors(h.path("bad.safetensors"), raw, bytes(16))
    h.case("safetensors", "a tensor named twice", ["inspect", path], contains=["bad.safetensors", "x"])
    wrong = safetensors(h.path("wrong.safetensors"), {"pixel_values": {"dtype": "F32", "shape": [1, 3, 2, 2], "data_offsets": [0, 48]}},
                        bytes(48))
    h.case("safetensors", "inputs of the wrong shape", ["run", "--model", h.path("vit"), "--inputs", wrong, "--out", h.path("o.safetensors")],
           contains=["pixel_values"])


def refused(h):
    """Inputs that parse but must be refused, each named."""
    def resize(records):
        camera = next(r for r in records if r.get("filename", "").endswith(".jpg"))
        camera["width"] = camera["width"] + 8
    data = edited_table(h, "data-size", "sample_data", resize)
    h.case("refused", "a JPEG whose size differs from sample_data", ["detect", "--model", QPETR, "--data", data, "--out",
                                                                     h.path("r.json")], contains=["sample_data record says width"])

    def focal(records):
        for r in records:
            if r.get("camera_intrinsic"):
                r["camera_intrinsic"][0][0] = 0
                break
    data = edited_table(h, "data-focal", "calibrated_sensor", focal)
    h.case("refused", "intrinsics with fx = 0", ["detect", "--model", QPETR, "--data", data, "--out", h.path("r.json")],
           contains=["calibrated_sensor"])

    def singular(records):
        for r in records:
            if r.get("camera_intrinsic"):
                r["camera_intrinsic"] = [[1, 2, 3], [2, 4, 6], [0, 0, 1]]
                break
    data = edited_table(h, "data-singular", "calibrated_sensor", singular)
    h.case("refused", "a singular intrinsic matrix", ["detect", "--model", QPETR, "--data", data, "--out", h.path("r.json")],
           contains=["calibrated_sensor"])

    def zero_rotation(records):
        records[0]["rotation"] = [0, 0, 0, 0]
    data = edited_table(h, "data-rotation", "calibrated_sensor", zero_rotation)
    h.case("refused", "a zero-norm rotation", ["detect", "--model", QPETR, "--data", data, "--out", h.path("r.json")],
           contains=["calibrated_sensor"])
    data = copy_tree(h.path("data"), h.path("data-nan"))
    table = os.path.join(data, "v1.0-synth", "ego_pose.json")
    with open(table) as f:
        text = f.read()
    with open(table, "w") as f:
        f.write(text.replace('"rotation": [', '"rotation": [NaN, ', 1).replace('"rotation":[', '"rotation":[NaN,', 1))
    h.case("refused", "NaN inside a quaternion", ["detect", "--model", QPETR, "--data", data, "--out", h.path("r.json")],
           contains=["ego_pose"])
    with open(h.path("results-kept.json")) as f:
        results = json.load(f)
    results["results"]["not-a-sample-of-the-split"] = []
    write_json(h.path("foreign-results.json"), results)
    h.case("refused", "eval results for samples outside a custom split (left out with a note, as the devkit)",
           ["eval", "--data", h.path("data"), "--version", "v1.0-synth", "--split", "synth_train", "--results",
            h.path("foreign-results.json"), "--out", h.path("m.json")], expect="ok", contains=["outside custom split synth_train"])
    data = copy_tree(h.path("data"), h.path("data-val"))
    with open(os.path.join(data, "v1.0-synth", "splits.json")) as f:
        splits = json.load(f)
    splits["val"] = splits["synth_train"]
    write_json(os.path.join(data, "v1.0-synth", "splits.json"), splits)
    h.case("refused", "eval results for samples outside the predefined split val",
           ["eval", "--data", data, "--version", "v1.0-synth", "--split", "val", "--results",
            h.path("foreign-results.json"), "--out", h.path("m.json")], contains=["foreign-results.json", "not in split 'val'"])
    for name, recipe in [("a typo in a recipe key", {"observr": "minmax"}), ("a recipe value of the wrong type", {"keep_float": 3}),
                         ("an unknown observer", {"observer": "magic"})]:
        write_json(h.path("recipe.json"), recipe)
        h.case("refused", name, ["quantize", "--model", h.path("vit"), "--calibration", h.path("calibration"), "--recipe",
                                 h.path("recipe.json"), "--out", h.path("q-recipe")], contains=["recipe.json"])
    base = h.path("vit/model.safetensors")
    h.case("refused", "delta applied to another base than it was made from",
           ["delta", "apply", "--base", h.path("finetuned.safetensors"), "--delta", h.path("delta.bin"), "--out", h.path("applied.safetensors")],
           contains=["delta.bin", "base_fingerprint", "another base"])
    h.case("refused", "delta --ratio that keeps nothing", ["delta", "compress", "--base", base, "--finetuned", base,
                                                           "--ratio", "1e12", "--out", h.path("d.bin")], contains=["ratio"])
    plan = copy_tree(h.path("vit-int8"), h.path("vit-int8-bad"))
    with open(os.path.join(plan, "quant.json")) as f:
        text = f.read()
    with open(os.path.join(plan, "quant.json"), "w") as f:
        f.write(text.replace('"scale":', '"scale":-', 1).replace('"scale" :', '"scale" :-', 1))
    h.case("refused", "a negative scale in quant.json", ["bench", "--model", plan, "--precision", "int8", "--iterations", "1"],
           contains=["quant.json"])
    plan = copy_tree(h.path("vit-int8"), h.path("vit-int8-qscale"))
    weights = os.path.join(plan, "model.safetensors")
    with open(weights, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header, payload = json.loads(f.read(length)), f.read()
    scale = sorted(k for k in header if k.endswith(".qscale"))[0]
    header[scale]["shape"] = [1] + header[scale]["shape"]  # same bytes, but [1, ...] is no grouping of N channels
    safetensors(weights, header, payload)
    h.case("refused", "a weight's scales in a shape of no grouping", ["bench", "--model", plan, "--precision", "int8", "--iterations", "1"],
           contains=["model.safetensors", scale])
    for name, recipe in [("a percentile of 200", {"observer": "percentile", "percentile": 200}),
                         ("a negative percentile", {"observer": "percentile", "percentile": -1})]:
        write_json(h.path("recipe.json"), recipe)
        h.case("refused", "recipe with " + name, ["quantize", "--model", h.path("vit"), "--calibration", h.path("calibration"),
                                                  "--recipe", h.path("recipe.json"), "--out", h.path("q-recipe")],
               contains=["recipe.json", "percentile"])
    for name, replace in [("a zero point of 300", ('"zero_point":', '"zero_point":300,"was":')),
                          ("a NaN scale", ('"scale":', '"scale":NaN,"was":'))]:
        plan = copy_tree(h.path("vit-int8"), h.path("vit-int8-%d" % len(name)))
        with open(os.path.join(plan, "quant.json")) as f:
            text = f.read()
        with open(os.path.join(plan, "quant.json"), "w") as f:
            f.write(text.replace(replace[0], replace[1], 1).replace(replace[0].replace(":", " :"), replace[1], 1))
        h.case("refused", "quant.json with " + name, ["bench", "--model", plan, "--precision", "int8", "--iterations", "1"],
               contains=["quant.json"])
    manifest = h.path("manifest.json")
    write_json(manifest, {"synth": {"rig": "tiny-2cam", "seed": 1, "scenes": 0, "samples_per_scene": 1}, "split": "synth_train"})
    h.case("refused", "a calibration manifest asking for 0 scenes",
           ["validate", "--model", QPETR, "--data", h.path("data"), "--calibration", manifest, "--out", h.path("v-manifest")],
           contains=["manifest.json", "scenes"])
    for name, text in [("negative RAM", "name: x\nram_bytes: -8\ncpu_cores: 4\nos_reserve_bytes: 0\nmemory_budget_bytes: 1\n"),
                       ("an unknown field", "name: x\nram_bytes: 8\ncpu_cores: 4\nos_reserve_bytes: 0\nmemory_budget_bytes: 1\nram_byts: 3\n"),
                       ("a YAML alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                        "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n")]:
        board = h.path("board.yaml")
        with open(board, "w") as f:
            f.write(text)
        h.case("refused", "a board file with " + name, ["profile", "--model", h.path("vit"), "--board", board, "--runs", "1"],
               contains=["board.yaml"], timeout=30)
    rig = h.path("rig.json")
    with open(os.path.join(ROOT, "Sensors", "tiny-2cam.json")) as f:
        base_rig = json.load(f)
    for name, edit in [("image_width 0", lambda r: r.update(image_width=0)),
                       ("no cameras", lambda r: r.update(cameras=[])),
                       ("a NaN-free but singular intrinsic", lambda r: r["cameras"][0].update(intrinsic=[[0, 0, 0], [0, 0, 0], [0, 0, 1]]))]:
        edited = json.loads(json.dumps(base_rig))
        edit(edited)
        write_json(rig, edited)
        h.case("refused", "a rig with " + name, ["synth", "--out", h.path("synth-rig"), "--scenes", "1", "--samples-per-scene", "1",
                                                 "--seed", "1", "--rig", rig], contains=["rig.json"], watch=[h.work])
    with open(first_image(h), "rb") as f:
        jpeg = f.read()
    broken = h.path("broken.jpg")
    with open(broken, "wb") as f:
        f.write(jpeg[: len(jpeg) // 3])
    h.case("refused", "a truncated JPEG", ["preprocess", "--images", broken], contains=["broken.jpg"])
    with open(broken, "wb") as f:
        f.write(b"not a jpeg at all")
    h.case("refused", "a file that is no JPEG", ["preprocess", "--images", broken], contains=["broken.jpg"])


def interrupts(h):
    """SIGINT / SIGTERM at several moments: the old output or the new one, whole, nothing beside."""
    earlier = h.path("vit-int8")
    for delay in [0.05, 0.3, 0.8, 1.5]:
        for number in [signal.SIGINT, signal.SIGTERM]:
            h.case("interrupt", "quantize, %s after %.2fs, onto an earlier output" % (signal.Signals(number).name, delay),
                   ["quantize", "--model", h.path("vit"), "--calibration", h.path("calibration"), "--out", earlier],
                   expect="interrupted", interrupt=(delay, number), watch=[h.work],
                   check=lambda: None if os.path.isfile(os.path.join(earlier, "quant.json")) else ("destroyed", "no output left"))
    with open(h.path("results.json"), "rb") as f:
        results = f.read()
    for delay in [0.2, 1.0, 2.5]:
        h.case("interrupt", "detect, SIGINT after %.1fs, onto earlier results" % delay,
               ["detect", "--model", QPETR, "--data", h.path("data"), "--out", h.path("results.json")],
               expect="interrupted", interrupt=(delay, signal.SIGINT), watch=[h.work],
               check=lambda: None if os.path.getsize(h.path("results.json")) > 0 else ("destroyed", "empty results"))
    for delay in [0.5, 3.0]:
        h.case("interrupt", "synth, SIGTERM after %.1fs" % delay,
               ["synth", "--out", h.path("synth-interrupted"), "--scenes", "3", "--samples-per-scene", "2", "--seed", "9"],
               expect="interrupted", interrupt=(delay, signal.SIGTERM), watch=[h.work])
        shutil.rmtree(h.path("synth-interrupted"), ignore_errors=True)


def text(h):
    """The sentence encoder (the real all-MiniLM-L6-v2 of tools/fetch_minilm.sh): text files and
    Hugging Face configs a user could hand `embed` and `bench`."""
    real = os.environ.get("ONBOARD_MINILM_DIR") or os.path.expanduser("~/.cache/onboard/all-MiniLM-L6-v2")
    out = h.path("emb.safetensors")
    def embed(name, text_file, expect="error", contains=(), extra=(), model=real, timeout=120):
        h.case("text", name, ["embed", "--model", model, "--text-file", text_file, "--out", out, *extra], expect=expect,
               contains=contains, timeout=timeout, protect=[os.path.join(real, "model.safetensors")])
    fifo = h.path("sentences.fifo")
    os.mkfifo(fifo)
    embed("embed --text-file a FIFO", fifo, contains=[fifo], timeout=30)
    embed("embed --text-file /dev/zero", "/dev/zero", contains=["/dev/zero"], timeout=30)
    embed("embed --text-file a directory", h.work, contains=[h.work])
    with open(h.path("nul.txt"), "wb") as f:
        f.write(b"a\x00b c\n\xef\xbb\xbfbom first\n")
    embed("embed NUL bytes and a BOM (dropped as the tokenizer does)", h.path("nul.txt"), expect="ok")
    with open(h.path("long.txt"), "w") as f:
        f.write("word " * 400_000 + "\n")
    embed("embed a 2 MB line (truncated, said once)", h.path("long.txt"), expect="ok", contains=["truncated"])
    with open(h.path("cut.txt"), "wb") as f:
        f.write(b"fine\ncaf\xc3")
    embed("embed a file cut inside a UTF-8 character", h.path("cut.txt"), contains=["line 2"])
    embed("embed --batch 0", h.path("nul.txt"), extra=["--batch", "0"], contains=["--batch"])
    h.case("text", "embed --out the model's weights", ["embed", "--model", real, "--text-file", h.path("nul.txt"), "--out",
           os.path.join(real, "model.safetensors")], protect=[os.path.join(real, "model.safetensors")])
    h.case("text", "bench --sequence-length 100000", ["bench", "--model", real, "--sequence-length", "100000", "--iterations", "1"],
           contains=["sequence-length"])
    for field, value in [("hidden_size", 2 ** 40), ("num_attention_heads", 0), ("num_attention_heads", 7), ("vocab_size", -1),
                         ("hidden_act", "relu"), ("architectures", "BertModel"), ("architectures", ["BertForMaskedLM"]),
                         ("max_position_embeddings", 2 ** 62), ("layer_norm_eps", "tiny"), ("num_hidden_layers", 7)]:
        bundle = h.path("minilm-%s-%s" % (field, len(h.results)))
        os.makedirs(bundle)
        for name in os.listdir(real):
            if name != "config.json":
                os.symlink(os.path.join(real, name), os.path.join(bundle, name))
        with open(os.path.join(real, "config.json")) as f:
            config = json.load(f)
        config[field] = value
        write_json(os.path.join(bundle, "config.json"), config)
        # A config the weights do not match is named by the first tensor that does not fit.
        named = "model.safetensors" if field == "num_hidden_layers" else "config.json"
        embed("BERT config %s = %s" % (field, json.dumps(value)), h.path("nul.txt"), model=bundle, contains=[named])


def onnx_cases(h):
    """ONNX files for import-onnx (made from the committed fixtures by byte edits, no onnx package)
    and graph bundles whose stored graph lies (Tests/Fixtures/graph/resnet_tiny, edited)."""
    fixture = os.path.join(ROOT, "Tests/Fixtures/onnx/resnet_tiny.onnx")
    with open(fixture, "rb") as f:
        data = f.read()
    out = h.path("imported")
    def importing(name, model, contains=(), extra=(), timeout=60):
        h.case("onnx", name, ["import-onnx", model, "--out", out, *extra], contains=contains, timeout=timeout, watch=[h.work])
    for name, content in [("truncated", data[: len(data) // 2]), ("random bytes", random.Random(0).randbytes(4096)), ("empty", b""),
                          ("a JSON file", b'{"graph": {}}')]:
        path = h.path("hostile-%s.onnx" % name.replace(" ", "-"))
        with open(path, "wb") as f:
            f.write(content)
        importing("import-onnx %s" % name, path, contains=[path])
    fifo = h.path("model.fifo")
    os.mkfifo(fifo)
    importing("import-onnx a FIFO", fifo, contains=[fifo], timeout=30)
    importing("import-onnx /dev/zero", "/dev/zero", contains=["/dev/zero"], timeout=30)
    importing("import-onnx a directory", h.work, contains=[h.work])
    importing("import-onnx --input of an unknown name", fixture, extra=["--input", "pixels=1x3x64x64"], contains=["pixels"])
    importing("import-onnx --input 0 dimension", fixture, extra=["--input", "input=0x3x64x64"], contains=["--input"])
    importing("import-onnx --input too large", fixture, extra=["--input", "input=100000x3x6400x6400"], contains=["input"])
    source = os.path.join(ROOT, "Tests/Fixtures/graph/resnet_tiny")
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    def lie(name, edit, contains):
        bundle = h.path("graph-%d" % len(h.results))
        copy_tree(source, bundle)
        edited = json.loads(json.dumps(config))
        edit(edited["graph"])
        write_json(os.path.join(bundle, "config.json"), edited)
        h.case("onnx", "graph bundle: " + name, ["bench", "--model", bundle, "--iterations", "1"], contains=contains)
    lie("a node reads an undefined value", lambda g: g["nodes"][1].update(inputs=["nowhere"]), ["nowhere"])
    lie("an unknown op", lambda g: g["nodes"][1]["op"].update(op="teleport"), ["teleport"])
    lie("version 99", lambda g: g.update(version=99), ["graph.version"])
    lie("a huge reshape", lambda g: g["nodes"][-2]["op"].update(shape=[2 ** 40, 2 ** 40]), ["shape"])
    lie("a huge input", lambda g: g["inputs"][0].update(shape=[2 ** 31, 3, 2 ** 20, 64]), ["input"])
    lie("a zero conv stride", lambda g: g["nodes"][0]["op"].update(stride=[0, 1]), ["stride"])
    lie("a constant of the wrong shape", lambda g: g["constants"][0].update(shape=[8, 3, 5, 5]), ["onnx::Conv_117"])


def exchange_cases(h):
    """detect --record-graph / --graph-outputs given what another runtime might write."""
    detect = ["detect", "--model", QPETR, "--data", h.path("data")]
    recorded = h.path("recorded")
    h.case("exchange", "record the graph tensors", detect + ["--out", h.path("x.json"), "--record-graph", recorded], expect="ok",
           watch=[h.work])
    files = sorted(f for f in os.listdir(recorded) if f.endswith(".safetensors"))
    h.case("exchange", "a directory with no outputs", detect + ["--out", h.path("x.json"), "--graph-outputs", h.path("calibration")],
           contains=["no graph outputs for sample"])
    broken = copy_tree(recorded, h.path("broken"))
    with open(os.path.join(broken, files[0]), "r+b") as f:
        f.truncate(100)
    h.case("exchange", "a truncated outputs file", detect + ["--out", h.path("x.json"), "--graph-outputs", broken], contains=[files[0]])
    reshaped = copy_tree(recorded, h.path("reshaped"))
    safetensors(os.path.join(reshaped, files[0]), {n: {"dtype": "F32", "shape": [2, 2], "data_offsets": [16 * i, 16 * i + 16]}
                                                   for i, n in enumerate(["cls_scores", "bbox_raw", "pos_embed", "memory"])}, bytes(64))
    h.case("exchange", "outputs of the wrong shape", detect + ["--out", h.path("x.json"), "--graph-outputs", reshaped],
           contains=[files[0], "cls_scores"])
    h.case("exchange", "record and replay at once",
           detect + ["--out", h.path("x.json"), "--record-graph", h.path("r2"), "--graph-outputs", recorded], contains=["exclude"])
    mine = h.path("mine")
    os.makedirs(mine, exist_ok=True)
    with open(os.path.join(mine, "notes.txt"), "w") as f:
        f.write("mine")
    h.case("exchange", "record into a directory of the user's", detect + ["--out", h.path("x.json"), "--record-graph", mine],
           contains=["did not write"], protect=[os.path.join(mine, "notes.txt")], watch=[h.work])
    h.case("exchange", "record into a file", detect + ["--out", h.path("x.json"), "--record-graph", h.path("results-kept.json")],
           contains=["not a directory"], protect=[h.path("results-kept.json")])


CATEGORIES = {"outputs": outputs, "crash": crashes, "safetensors": safetensors_cases, "refused": refused, "interrupt": interrupts,
              "text": text, "onnx": onnx_cases, "exchange": exchange_cases}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onboard", default=os.path.join(ROOT, ".build/debug/onboard"))
    parser.add_argument("--only", choices=sorted(CATEGORIES), action="append")
    parser.add_argument("--json", action="store_true", help="print every case as JSON on stdout")
    args = parser.parse_args()
    onboard = os.path.abspath(args.onboard)
    if not os.access(onboard, os.X_OK):
        parser.error("%s: no onboard executable (swift build first)" % onboard)
    with tempfile.TemporaryDirectory(prefix="onboard-hostile-") as work:
        h = Harness(onboard, work)
        prepare(h)
        for name in args.only or list(CATEGORIES):
            CATEGORIES[name](h)
    table = {}
    for r in h.results:
        row = table.setdefault(r["category"], {"cases": 0, **{o: 0 for o in OUTCOMES}})
        row["cases"] += 1
        if r["outcome"] in OUTCOMES:
            row[r["outcome"]] += 1
    if args.json:
        print(json.dumps({"cases": h.results, "table": table}, indent=1))
    print("%-12s %6s %s" % ("category", "cases", " ".join("%9s" % o for o in OUTCOMES)))
    for category, row in table.items():
        print("%-12s %6d %s" % (category, row["cases"], " ".join("%9d" % row[o] for o in OUTCOMES)))
    bad = sum(row[o] for row in table.values() for o in OUTCOMES)
    print("hostile: %d passed, %d failed" % (len(h.results) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

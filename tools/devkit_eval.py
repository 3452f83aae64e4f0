#!/usr/bin/env python3
"""Runs the official nuScenes devkit and `onboard eval` on the same inputs and compares every figure.

    /work/venv-devkit/bin/python tools/devkit_eval.py --data DIR --version V --split S --results R.json \
        [--onboard .build/debug/onboard] [--tolerance 1e-4]

The devkit (nuscenes-devkit==1.2.0, numpy<2; see tools/make_eval_fixtures.py for the venv) evaluates the
custom split S (a key of DIR/V/splits.json). Prints one line per figure of metrics_summary.json (label_aps,
mean_dist_aps, mean_ap, label_tp_errors, tp_errors, tp_scores, nd_score), then the largest absolute
difference; exits 1 when a figure differs by more than the tolerance or NaN-ness differs, or when only one
of the two accepts the input (both refusing a malformed submission counts as agreement).
"""
import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile

FIGURE_KEYS = ["label_aps", "mean_dist_aps", "mean_ap", "label_tp_errors", "tp_errors", "tp_scores", "nd_score"]


def figures(summary):
    """Dotted name -> value for every number under FIGURE_KEYS (null counts as NaN)."""
    out = {}

    def walk(value, name):
        if isinstance(value, dict):
            for key, member in value.items():
                walk(member, "%s.%s" % (name, key))
        elif value is None:
            out[name] = float("nan")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)

    for key in FIGURE_KEYS:
        if key in summary:
            walk(summary[key], key)
    return out


def run_devkit(data, version, split, results, out_dir):
    from nuscenes import NuScenes
    from nuscenes.eval.common.config import config_factory
    from nuscenes.eval.detection.evaluate import DetectionEval
    nusc = NuScenes(version=version, dataroot=data, verbose=False)
    DetectionEval(nusc, config=config_factory("detection_cvpr_2019"), result_path=results, eval_set=split,
                  output_dir=out_dir, verbose=False).main(render_curves=False)
    with open(os.path.join(out_dir, "metrics_summary.json")) as f:
        return json.load(f)


def run_onboard(binary, data, version, split, results, out_path):
    command = [binary, "eval", "--data", data, "--version", version, "--split", split, "--results", results,
               "--out", out_path]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return None, "exit %d: %s" % (done.returncode, done.stderr.strip())
    with open(out_path) as f:
        return json.load(f), ""


def compare(devkit, onboard, tolerance):
    expected, actual = figures(devkit), figures(onboard)
    worst, failures = 0.0, []
    for name in sorted(set(expected) | set(actual)):
        a, b = expected.get(name), actual.get(name)
        if a is None or b is None:
            failures.append("%s: only in %s" % (name, "onboard" if a is None else "devkit"))
            print("%-45s %14s %14s   MISSING" % (name, a, b))
            continue
        if math.isnan(a) or math.isnan(b):
            ok = math.isnan(a) and math.isnan(b)
            print("%-45s %14s %14s   %s" % (name, a, b, "" if ok else "NaN MISMATCH"))
            if not ok:
                failures.append("%s: devkit %r, onboard %r" % (name, a, b))
            continue
        diff = abs(a - b)
        worst = max(worst, diff)
        flag = "" if diff <= tolerance else "DIFFERS"
        if flag:
            failures.append("%s: devkit %r, onboard %r" % (name, a, b))
        print("%-45s %14.8f %14.8f %10.2e %s" % (name, a, b, diff, flag))
    return worst, len(expected), failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--split", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--onboard", default=".build/debug/onboard")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        devkit, devkit_error = None, ""
        try:
            with contextlib.redirect_stdout(sys.stderr):  # the devkit prints its own summary
                devkit = run_devkit(args.data, args.version, args.split, args.results, os.path.join(tmp, "devkit"))
        except Exception as error:  # the devkit refuses bad submissions with asserts and KeyErrors
            devkit_error = "%s: %s" % (type(error).__name__, error)
        onboard, onboard_error = run_onboard(args.onboard, args.data, args.version, args.split, args.results,
                                             os.path.join(tmp, "onboard_metrics.json"))
    if devkit is None or onboard is None:
        print("devkit:  %s" % (devkit_error or "evaluated"))
        print("onboard: %s" % (onboard_error or "evaluated"))
        if devkit is None and onboard is None:
            print("OK: both refuse the input")
            return
        sys.exit("FAILED: only one of them evaluated the input")
    print("%-45s %14s %14s %10s" % ("figure", "devkit", "onboard", "|diff|"))
    worst, count, failures = compare(devkit, onboard, args.tolerance)
    print("compared %d figures; max abs difference %.3e (tolerance %.0e)" % (count, worst, args.tolerance))
    if failures:
        print("FAILED: %d figures differ:\n  %s" % (len(failures), "\n  ".join(failures)))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()

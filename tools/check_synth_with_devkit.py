#!/usr/bin/env python3
"""Checks a set written by `onboard synth` with the official nuscenes-devkit (1.2.0).

    /work/venv-devkit/bin/python tools/check_synth_with_devkit.py DATAROOT VERSION [--split synth_val]

Loads the set with `NuScenes(...)` (all 13 tables, reverse index, map mask), then runs
`DetectionEval` on the split with the ground truth itself as predictions: the boxes the devkit
keeps after `load_gt_of_sample_tokens` (custom split) + `add_center_dist` + `filter_eval_boxes`, each submitted with its own
attribute and velocity. A consistent set scores mAP 1.0 with all TP errors 0; exits 1 otherwise.
Needs its own venv (the devkit pins numpy<2):
    python3 -m venv /work/venv-devkit && /work/venv-devkit/bin/pip install nuscenes-devkit==1.2.0
"""
import argparse
import json
import math
import os
import sys
import tempfile

from nuscenes import NuScenes
from nuscenes.eval.common.loaders import (add_center_dist, filter_eval_boxes, get_samples_of_custom_split,
                                          load_gt_of_sample_tokens)
from nuscenes.eval.detection.config import config_factory
from nuscenes.eval.detection.data_classes import DetectionBox
from nuscenes.eval.detection.evaluate import DetectionEval


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataroot")
    ap.add_argument("version")
    ap.add_argument("--split", default="synth_val")
    args = ap.parse_args()

    nusc = NuScenes(version=args.version, dataroot=args.dataroot, verbose=True)
    cfg = config_factory("detection_cvpr_2019")
    # What DetectionEval does for a custom split (a key of splits.json).
    tokens = get_samples_of_custom_split(split_name=args.split, nusc=nusc)
    gt = load_gt_of_sample_tokens(nusc, tokens, DetectionBox, verbose=True)
    gt = filter_eval_boxes(nusc, add_center_dist(nusc, gt), cfg.class_range, verbose=True)
    results, count, rank = {}, {}, 0
    for token in gt.sample_tokens:
        boxes = []
        for box in gt[token]:
            rank += 1
            boxes.append({"sample_token": token, "translation": list(box.translation), "size": list(box.size),
                          "rotation": list(box.rotation), "velocity": [float(v) for v in box.velocity],
                          "detection_name": box.detection_name, "detection_score": 1.0 - 1e-6 * rank,
                          "attribute_name": box.attribute_name})
            count[box.detection_name] = count.get(box.detection_name, 0) + 1
        results[token] = boxes
    print("ground-truth boxes kept per class:", json.dumps(count, sort_keys=True))
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "results.json")
        with open(path, "w") as f:
            json.dump({"meta": {"use_camera": True, "use_lidar": False, "use_radar": False, "use_map": False,
                                "use_external": False}, "results": results}, f)
        summary = DetectionEval(nusc, config=cfg, result_path=path, eval_set=args.split, output_dir=work,
                                verbose=True).main(render_curves=False)
    print(f"mAP {summary['mean_ap']:.4f}  NDS {summary['nd_score']:.4f}")
    print("per-class AP:", json.dumps({k: round(v, 4) for k, v in summary["mean_dist_aps"].items()}, sort_keys=True))
    print("TP errors:", json.dumps({k: round(v, 4) for k, v in summary["tp_errors"].items()}, sort_keys=True))
    missing = sorted(set(cfg.class_names) - set(count))
    ok = summary["mean_ap"] > 0.999 and not missing and all(
        math.isnan(v) or v < 1e-6 for v in summary["tp_errors"].values())
    if missing:
        print("classes without kept ground truth:", missing)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

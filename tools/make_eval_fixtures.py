#!/usr/bin/env python3
"""Builds the nuScenes-detection-metric fixtures under Tests/Fixtures/nuscenes-eval/.

A tiny hand-made nuScenes-format set (3 scenes, all 13 tables, LIDAR_TOP + CAM_FRONT key frames,
a map table with a tiny PNG, `splits.json` with custom split names) with ground-truth objects of
all 10 detection classes and the cases the metric's filters handle (a box beyond its class range,
boxes with zero lidar+radar points, bicycles and a motorcycle in a bicycle rack, annotations without
attribute, annotations whose velocity is NaN, categories outside the detection classes), several
results files, and for each valid (results, split) pair the official devkit's `metrics_summary.json`.

Needs nuscenes-devkit==1.2.0 (numpy<2), in its own venv:
    python3 -m venv /work/venv-devkit && /work/venv-devkit/bin/pip install nuscenes-devkit==1.2.0
    /work/venv-devkit/bin/python tools/make_eval_fixtures.py
Deterministic: the same files every run (except the devkit's `eval_time`).
"""
import argparse
import hashlib
import json
import math
import os
import random
import shutil
import struct
import tempfile
import zlib

VERSION = "v1.0-evalfix"
T0 = 1_600_000_000_000_000  # microseconds

ATTRIBUTES = ["pedestrian.moving", "pedestrian.sitting_lying_down", "pedestrian.standing", "cycle.with_rider",
              "cycle.without_rider", "vehicle.moving", "vehicle.parked", "vehicle.stopped"]
CATEGORIES = ["vehicle.car", "vehicle.truck", "vehicle.bus.rigid", "vehicle.bus.bendy", "vehicle.trailer",
              "vehicle.construction", "vehicle.motorcycle", "vehicle.bicycle", "human.pedestrian.adult",
              "human.pedestrian.child", "human.pedestrian.police_officer", "human.pedestrian.construction_worker",
              "human.pedestrian.stroller", "movable_object.barrier", "movable_object.trafficcone",
              "static_object.bicycle_rack", "animal"]
# The devkit's category -> detection-name mapping (eval/detection/utils.py), restated for the result writers.
DETECTION_NAME = {"movable_object.barrier": "barrier", "vehicle.bicycle": "bicycle", "vehicle.bus.bendy": "bus",
                  "vehicle.bus.rigid": "bus", "vehicle.car": "car", "vehicle.construction": "construction_vehicle",
                  "vehicle.motorcycle": "motorcycle", "human.pedestrian.adult": "pedestrian",
                  "human.pedestrian.child": "pedestrian", "human.pedestrian.construction_worker": "pedestrian",
                  "human.pedestrian.police_officer": "pedestrian", "movable_object.trafficcone": "traffic_cone",
                  "vehicle.trailer": "trailer", "vehicle.truck": "truck"}
CLASS_ATTRIBUTES = {"pedestrian": ATTRIBUTES[0:3], "bicycle": ATTRIBUTES[3:5], "motorcycle": ATTRIBUTES[3:5],
                    "car": ATTRIBUTES[5:8], "truck": ATTRIBUTES[5:8], "bus": ATTRIBUTES[5:8],
                    "trailer": ATTRIBUTES[5:8], "construction_vehicle": ATTRIBUTES[5:8],
                    "barrier": [], "traffic_cone": []}
WRONG_CLASS = {"car": "truck", "truck": "car", "bus": "trailer", "trailer": "bus", "construction_vehicle": "car",
               "pedestrian": "bicycle", "bicycle": "pedestrian", "motorcycle": "bicycle",
               "traffic_cone": "barrier", "barrier": "traffic_cone"}
SIZES = {"vehicle.car": [1.9, 4.5, 1.6], "vehicle.truck": [2.5, 7.0, 3.0], "vehicle.bus.rigid": [2.9, 11.0, 3.4],
         "vehicle.bus.bendy": [2.9, 17.0, 3.4], "vehicle.trailer": [2.6, 9.0, 3.5],
         "vehicle.construction": [2.8, 6.5, 3.2], "vehicle.motorcycle": [0.8, 2.1, 1.4],
         "vehicle.bicycle": [0.6, 1.7, 1.2], "human.pedestrian.adult": [0.7, 0.7, 1.75],
         "human.pedestrian.child": [0.5, 0.5, 1.2], "human.pedestrian.police_officer": [0.7, 0.7, 1.8],
         "human.pedestrian.construction_worker": [0.7, 0.7, 1.8], "human.pedestrian.stroller": [0.6, 1.0, 1.0],
         "movable_object.barrier": [2.2, 0.5, 1.0], "movable_object.trafficcone": [0.4, 0.4, 0.8],
         "static_object.bicycle_rack": [1.0, 4.0, 1.2], "animal": [0.4, 0.8, 0.5]}


def token(*parts):
    return hashlib.md5("/".join(str(p) for p in parts).encode()).hexdigest()


def yaw_quaternion(yaw, tilt=0.0):
    """(w, x, y, z) of a rotation by `yaw` about z, optionally followed by a small roll `tilt` about x."""
    qz = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
    if tilt == 0.0:
        return qz
    qx = [math.cos(tilt / 2), math.sin(tilt / 2), 0.0, 0.0]
    w1, x1, y1, z1 = qz
    w2, x2, y2, z2 = qx
    return [w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2]


def tiny_png(path, size=10):
    raw = b"".join(b"\x00" + bytes([255 if (x + y) % 2 else 0 for x in range(size)]) for y in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# Scenes: name, sample offsets in seconds, ego start (x, y), ego velocity, ego yaw.
# Scene b's last sample comes 2 s after the previous one, so its last annotations' one-sided velocity is NaN.
SCENES = [
    ("evalfix-scene-a", [0.0, 0.5, 1.0, 1.5], (100.0, 200.0), (5.0, 0.0), 0.3),
    ("evalfix-scene-b", [0.0, 0.5, 2.5], (400.0, -50.0), (0.0, 3.0), 1.57),
    ("evalfix-scene-c", [0.0, 0.5], (800.0, 800.0), (2.0, 2.0), 0.0),
]

# Objects: (category, start offset from the ego start (x, y), velocity, yaw, attribute or "", sample indices,
#           lidar points per present sample (one value or a list), radar points, tilt).
def scene_objects(scene_index):
    if scene_index == 0:
        rack_center, rack_yaw = (-5.0, -5.0), 0.4
        c, s = math.cos(rack_yaw), math.sin(rack_yaw)

        def in_rack(lx, ly):
            return (rack_center[0] + c * lx - s * ly, rack_center[1] + s * lx + c * ly)

        return [
            ("vehicle.car", (10, 2), (8, 0), 0.05, "vehicle.moving", [0, 1, 2, 3], 120, 3, 0.0),
            ("vehicle.car", (-15, 6), (0, 0), 1.2, "vehicle.parked", [0, 1, 2, 3], 40, 0, 0.02),
            ("vehicle.car", (56, 0), (0, 0), 3.0, "vehicle.parked", [0, 1, 2, 3], 5, 1, 0.0),  # starts beyond 50 m
            ("vehicle.car", (25, 15), (-2, 0), -2.5, "vehicle.moving", [0, 1, 2, 3], [10, 0, 8, 6], [2, 0, 1, 1], 0.0),
            ("vehicle.car", (-20, -14), (0, 1), 0.7, "vehicle.stopped", [0, 1, 2, 3], 0, 3, 0.0),  # radar only: kept
            ("vehicle.car", (18, -18), (0, 0), 0.0, "vehicle.parked", [2], 30, 0, 0.0),  # lone annotation: NaN velocity
            ("vehicle.truck", (20, -8), (5, 1), 0.2, "vehicle.moving", [0, 1, 2, 3], 300, 5, 0.0),
            ("vehicle.bus.rigid", (-30, -10), (0, 0), 2.9, "vehicle.stopped", [0, 1, 2, 3], 500, 4, 0.0),
            ("human.pedestrian.adult", (5, 8), (1.2, 0.3), 0.25, "pedestrian.moving", [0, 1, 2, 3], 25, 0, 0.0),
            ("human.pedestrian.child", (7, -6), (0, 0), -1.0, "pedestrian.standing", [0, 1, 2, 3], 12, 0, 0.0),
            ("human.pedestrian.police_officer", (12, 9), (0.5, 0), 1.5, "", [0, 1, 2, 3], 30, 0, 0.0),
            ("human.pedestrian.adult", (-39, 1), (-1.0, 0), 3.1, "pedestrian.moving", [0, 1, 2, 3], 4, 0, 0.0),
            ("movable_object.barrier", (3, -4), (0, 0), 1.0, "", [0, 1, 2, 3], 50, 0, 0.0),
            ("movable_object.barrier", (4, -4.6), (0, 0), 1.05, "", [0, 1, 2, 3], 45, 0, 0.0),
            ("movable_object.trafficcone", (6, -3), (0, 0), 0.0, "", [0, 1, 2, 3], 15, 0, 0.0),
            ("movable_object.trafficcone", (6.5, -3.3), (0, 0), 0.9, "", [0, 1, 2, 3], 0, 0, 0.0),  # no points
            ("static_object.bicycle_rack", rack_center, (0, 0), rack_yaw, "", [0, 1, 2, 3], 60, 0, 0.0),
            ("vehicle.bicycle", in_rack(1.2, 0.2), (0, 0), rack_yaw + 1.57, "cycle.without_rider", [0, 1, 2, 3], 20, 0,
             0.0),
            ("vehicle.motorcycle", in_rack(-1.0, -0.1), (0, 0), rack_yaw - 1.57, "cycle.without_rider", [0, 1, 2, 3],
             20, 0, 0.0),
            ("vehicle.bicycle", (9, -9), (3, 0), 0.0, "cycle.with_rider", [0, 1, 2, 3], 35, 0, 0.0),
            ("vehicle.motorcycle", (-8, 12), (6, 1), 0.16, "cycle.with_rider", [2, 3], 50, 1, 0.0),
            ("animal", (2, 14), (0, 0), 0.0, "", [0, 1, 2, 3], 5, 0, 0.0),
            ("human.pedestrian.stroller", (3, 15), (0, 0), 0.0, "", [0, 1, 2, 3], 5, 0, 0.0),
        ]
    if scene_index == 1:
        return [
            ("vehicle.trailer", (15, 5), (2, 0), 0.0, "vehicle.parked", [0, 1, 2], 200, 2, 0.0),
            ("vehicle.construction", (-12, 12), (0, 0), 0.6, "vehicle.stopped", [0, 1, 2], 150, 2, 0.0),
            ("vehicle.car", (0, 20), (10, -2), -0.2, "vehicle.moving", [0, 1, 2], 90, 2, 0.0),
            ("vehicle.bus.bendy", (-25, -5), (4, 4), 0.78, "vehicle.moving", [0, 1], 400, 3, 0.0),
            ("human.pedestrian.construction_worker", (-4, 4), (0.8, -0.8), 2.0, "pedestrian.moving", [0, 1, 2], 20, 0,
             0.0),
            ("human.pedestrian.adult", (3, 3), (0, 0), 0.0, "pedestrian.sitting_lying_down", [0, 1, 2], 18, 0, 0.0),
            ("movable_object.barrier", (20, 3), (0, 0), 2.5, "", [0, 1, 2], 30, 0, 0.0),
            ("movable_object.trafficcone", (1, 31), (0, 0), 0.0, "", [0, 1, 2], 6, 0, 0.0),  # beyond 30 m at first
            ("movable_object.trafficcone", (-2, 5), (0, 0), 0.0, "", [0, 1, 2], 9, 0, 0.0),
            ("vehicle.bicycle", (6, -6), (0, 4), 1.57, "cycle.with_rider", [0, 1, 2], 25, 0, 0.0),
        ]
    return [
        ("vehicle.car", (8, 0), (5, 0), 0.0, "vehicle.moving", [0, 1], 80, 1, 0.0),
        ("human.pedestrian.adult", (4, 4), (1, 0), 0.0, "pedestrian.moving", [0, 1], 20, 0, 0.0),
    ]


def build_tables(root):
    tables = {name: [] for name in ["category", "attribute", "visibility", "instance", "sensor",
                                     "calibrated_sensor", "ego_pose", "log", "scene", "sample", "sample_data",
                                     "sample_annotation", "map"]}
    for name in CATEGORIES:
        tables["category"].append({"token": token("category", name), "name": name, "description": name})
    for name in ATTRIBUTES:
        tables["attribute"].append({"token": token("attribute", name), "name": name, "description": name})
    for level, desc in [("v0-40", "visibility of whole object is between 0 and 40%"),
                        ("v40-60", "between 40 and 60%"), ("v60-80", "between 60 and 80%"),
                        ("v80-100", "between 80 and 100%")]:
        tables["visibility"].append({"token": str(len(tables["visibility"]) + 1), "level": level, "description": desc})
    sensors = {"LIDAR_TOP": "lidar", "CAM_FRONT": "camera"}
    for channel, modality in sensors.items():
        tables["sensor"].append({"token": token("sensor", channel), "channel": channel, "modality": modality})
    tables["calibrated_sensor"].append({"token": token("cs", "LIDAR_TOP"), "sensor_token": token("sensor", "LIDAR_TOP"),
                                        "translation": [0.94, 0.0, 1.84],
                                        "rotation": yaw_quaternion(-1.5708), "camera_intrinsic": []})
    tables["calibrated_sensor"].append({"token": token("cs", "CAM_FRONT"), "sensor_token": token("sensor", "CAM_FRONT"),
                                        "translation": [1.7, 0.0, 1.5], "rotation": [0.5, -0.5, 0.5, -0.5],
                                        "camera_intrinsic": [[1266.4, 0.0, 816.3], [0.0, 1266.4, 491.5],
                                                             [0.0, 0.0, 1.0]]})
    log_token = token("log", "evalfix")
    tables["log"].append({"token": log_token, "logfile": "evalfix-log", "vehicle": "n000",
                          "date_captured": "2020-09-13", "location": "singapore-onenorth"})
    tables["map"].append({"token": token("map", "evalfix"), "log_tokens": [log_token], "category": "semantic_prior",
                          "filename": "maps/evalfix-mask.png"})
    os.makedirs(os.path.join(root, "maps"), exist_ok=True)
    tiny_png(os.path.join(root, "maps", "evalfix-mask.png"))

    samples_by_scene = []
    for si, (name, offsets, ego_start, ego_velocity, ego_yaw) in enumerate(SCENES):
        scene_token = token("scene", name)
        sample_tokens = [token("sample", name, i) for i in range(len(offsets))]
        samples_by_scene.append(sample_tokens)
        tables["scene"].append({"token": scene_token, "log_token": log_token, "nbr_samples": len(offsets),
                                "first_sample_token": sample_tokens[0], "last_sample_token": sample_tokens[-1],
                                "name": name, "description": "onboard eval fixture " + name})
        for i, offset in enumerate(offsets):
            stamp = T0 + si * 100_000_000 + int(round(offset * 1e6))
            tables["sample"].append({"token": sample_tokens[i], "timestamp": stamp,
                                     "prev": sample_tokens[i - 1] if i > 0 else "",
                                     "next": sample_tokens[i + 1] if i + 1 < len(offsets) else "",
                                     "scene_token": scene_token})
            ego = (ego_start[0] + ego_velocity[0] * offset, ego_start[1] + ego_velocity[1] * offset, 0.0)
            for channel, delay, key in [("LIDAR_TOP", 0, True), ("CAM_FRONT", 12_000, True),
                                        ("LIDAR_TOP", 25_000, False)]:
                dt = delay * 1e-6
                pose_token = token("ego_pose", name, i, channel, delay)
                tables["ego_pose"].append({"token": pose_token, "timestamp": stamp + delay,
                                           "rotation": yaw_quaternion(ego_yaw),
                                           "translation": [ego[0] + ego_velocity[0] * dt + (0 if key else 30.0),
                                                           ego[1] + ego_velocity[1] * dt, 0.0]})
                is_cam = channel == "CAM_FRONT"
                ext = "jpg" if is_cam else "pcd.bin"
                folder = "samples" if key else "sweeps"
                tables["sample_data"].append({
                    "token": token("sample_data", name, i, channel, delay), "sample_token": sample_tokens[i],
                    "ego_pose_token": pose_token, "calibrated_sensor_token": token("cs", channel),
                    "timestamp": stamp + delay, "fileformat": "jpg" if is_cam else "pcd", "is_key_frame": key,
                    "height": 900 if is_cam else 0, "width": 1600 if is_cam else 0,
                    "filename": "%s/%s/%s__%s__%d.%s" % (folder, channel, name, channel, stamp + delay, ext),
                    "prev": "", "next": ""})

        for oi, (category, start, velocity, yaw, attribute, present, lidar, radar, tilt) in \
                enumerate(scene_objects(si)):
            instance_token = token("instance", name, oi)
            ann_tokens = [token("ann", name, oi, i) for i in present]
            tables["instance"].append({"token": instance_token, "category_token": token("category", category),
                                       "nbr_annotations": len(present), "first_annotation_token": ann_tokens[0],
                                       "last_annotation_token": ann_tokens[-1]})
            for k, i in enumerate(present):
                t = offsets[i]
                lidar_k = lidar[k] if isinstance(lidar, list) else lidar
                radar_k = radar[k] if isinstance(radar, list) else radar
                tables["sample_annotation"].append({
                    "token": ann_tokens[k], "sample_token": sample_tokens[i], "instance_token": instance_token,
                    "visibility_token": "4", "attribute_tokens": [token("attribute", attribute)] if attribute else [],
                    "translation": [round(ego_start[0] + start[0] + velocity[0] * t, 4),
                                    round(ego_start[1] + start[1] + velocity[1] * t, 4), 0.9],
                    "size": SIZES[category], "rotation": [round(v, 8) for v in yaw_quaternion(yaw, tilt)],
                    "prev": ann_tokens[k - 1] if k > 0 else "",
                    "next": ann_tokens[k + 1] if k + 1 < len(present) else "",
                    "num_lidar_pts": lidar_k, "num_radar_pts": radar_k})

    # Table order matters to the devkit (split sample order, per-sample annotation order): mix it up.
    rng = random.Random(7)
    rng.shuffle(tables["sample_annotation"])
    tables["sample"] = tables["sample"][4:] + tables["sample"][:4]
    table_dir = os.path.join(root, VERSION)
    os.makedirs(table_dir, exist_ok=True)
    for name, records in tables.items():
        with open(os.path.join(table_dir, name + ".json"), "w") as f:
            json.dump(records, f, indent=0)
    with open(os.path.join(table_dir, "splits.json"), "w") as f:
        json.dump({"synth_val": ["evalfix-scene-a", "evalfix-scene-b"], "synth_one": ["evalfix-scene-a"],
                   "synth_train": ["evalfix-scene-c"]}, f, indent=1)
    return tables


def gt_detection_boxes(tables):
    """Every annotation of a detection class, with its devkit velocity (NaN where box_velocity gives NaN)."""
    anns = {a["token"]: a for a in tables["sample_annotation"]}
    stamps = {s["token"]: s["timestamp"] for s in tables["sample"]}
    categories = {c["token"]: c["name"] for c in tables["category"]}
    instances = {i["token"]: categories[i["category_token"]] for i in tables["instance"]}
    attributes = {a["token"]: a["name"] for a in tables["attribute"]}
    boxes = {}
    for ann in tables["sample_annotation"]:
        name = DETECTION_NAME.get(instances[ann["instance_token"]])
        if name is None:
            continue
        first = anns[ann["prev"]] if ann["prev"] else ann
        last = anns[ann["next"]] if ann["next"] else ann
        dt = 1e-6 * stamps[last["sample_token"]] - 1e-6 * stamps[first["sample_token"]]
        limit = 3.0 if ann["prev"] and ann["next"] else 1.5
        if first is last or dt > limit:
            velocity = [float("nan"), float("nan")]
        else:
            velocity = [(last["translation"][k] - first["translation"][k]) / dt for k in range(2)]
        boxes.setdefault(ann["sample_token"], []).append({
            "sample_token": ann["sample_token"], "translation": ann["translation"], "size": ann["size"],
            "rotation": ann["rotation"], "velocity": velocity, "detection_name": name,
            "attribute_name": attributes[ann["attribute_tokens"][0]] if ann["attribute_tokens"] else ""})
    return boxes


def results_file(path, results):
    meta = {"use_camera": True, "use_lidar": False, "use_radar": False, "use_map": False, "use_external": False}
    with open(path, "w") as f:
        json.dump({"meta": meta, "results": results}, f, separators=(",", ":"))


def r4(values):
    return [round(v, 4) for v in values]


def make_results(tables, out, seed=2024):
    gt = gt_detection_boxes(tables)
    tokens = [s["token"] for s in tables["sample"]]
    rng = random.Random(seed)
    perfect, noisy, wrong, = {}, {}, {}
    for sample_token in tokens:
        perfect[sample_token], noisy[sample_token], wrong[sample_token] = [], [], []
        for box in gt.get(sample_token, []):
            finite_velocity = [v if not math.isnan(v) else 0.0 for v in box["velocity"]]
            score = round(rng.uniform(0.3, 1.0), 3)
            perfect[sample_token].append(dict(box, velocity=finite_velocity, detection_score=score))
            wrong[sample_token].append(dict(box, velocity=finite_velocity, detection_score=score,
                                            detection_name=WRONG_CLASS[box["detection_name"]]))
            if rng.random() < 0.15:
                continue  # a miss
            sigma = 0.25 if rng.random() < 0.7 else 1.6
            flip_chance = 0.5 if box["detection_name"] == "barrier" else 0.15  # barriers: yaw period pi
            yaw_noise = rng.gauss(0, 0.25) + (math.pi if rng.random() < flip_chance else 0.0)
            w, x, y, z = box["rotation"]
            q = yaw_quaternion(yaw_noise)
            rotation = [q[0] * w - q[3] * z, q[0] * x - q[3] * y, q[0] * y + q[3] * x, q[0] * z + q[3] * w]
            attrs = CLASS_ATTRIBUTES[box["detection_name"]]
            attribute = box["attribute_name"]
            if attrs and rng.random() < 0.3:
                attribute = rng.choice(attrs)
            velocity = r4([v + rng.gauss(0, 0.6) for v in finite_velocity])
            if rng.random() < 0.05:
                velocity = [float("nan"), float("nan")]  # the devkit allows NaN velocities in predictions
            noisy[sample_token].append({
                "sample_token": sample_token,
                "translation": r4([box["translation"][0] + rng.gauss(0, sigma),
                                   box["translation"][1] + rng.gauss(0, sigma), box["translation"][2]]),
                "size": r4([s * math.exp(rng.gauss(0, 0.12)) for s in box["size"]]),
                "rotation": r4(rotation), "velocity": velocity, "detection_name": box["detection_name"],
                # Some exactly tied scores exercise the devkit's tie order.
                "detection_score": 0.5 if rng.random() < 0.15 else round(rng.uniform(0.2, 1.0), 3),
                "attribute_name": attribute})
            if rng.random() < 0.15:  # a lower-scored duplicate: a false positive once the GT is taken
                dup = dict(noisy[sample_token][-1])
                dup["translation"] = r4([dup["translation"][0] + 0.3, dup["translation"][1] - 0.2,
                                         dup["translation"][2]])
                dup["detection_score"] = round(dup["detection_score"] * 0.6, 3)
                noisy[sample_token].append(dup)
        ego = next(p for p in tables["ego_pose"] if p["token"] == next(
            sd["ego_pose_token"] for sd in tables["sample_data"]
            if sd["sample_token"] == sample_token and sd["is_key_frame"] and "LIDAR_TOP" in sd["filename"]))
        for _ in range(4):  # false positives, some beyond their class range
            name = rng.choice(list(CLASS_ATTRIBUTES))
            attrs = CLASS_ATTRIBUTES[name]
            radius = rng.uniform(2, 45)
            angle = rng.uniform(-math.pi, math.pi)
            noisy[sample_token].append({
                "sample_token": sample_token,
                "translation": r4([ego["translation"][0] + radius * math.cos(angle),
                                   ego["translation"][1] + radius * math.sin(angle), 1.0]),
                "size": [1.0, 2.0, 1.5], "rotation": r4(yaw_quaternion(rng.uniform(-3, 3))),
                "velocity": r4([rng.gauss(0, 2), rng.gauss(0, 2)]), "detection_name": name,
                "detection_score": round(rng.uniform(0.05, 0.7), 3),
                "attribute_name": rng.choice(attrs) if attrs else ""})
    results_file(os.path.join(out, "results_perfect.json"), perfect)
    results_file(os.path.join(out, "results_noisy.json"), noisy)
    results_file(os.path.join(out, "results_wrong_class.json"), wrong)

    # Invalid submissions (the devkit refuses each; the reader must too).
    split_tokens = [t for t in tokens if t in perfect and not any(
        s["token"] == t and s["scene_token"] == token("scene", "evalfix-scene-c") for s in tables["sample"])]
    small = {t: boxes[:2] for t, boxes in perfect.items()}  # keeps the invalid files small
    missing = dict(small)
    del missing[split_tokens[2]]
    results_file(os.path.join(out, "invalid", "results_missing_sample.json"), missing)
    bad = json.loads(json.dumps(small))
    bad[split_tokens[1]][0]["detection_name"] = "spaceship"
    results_file(os.path.join(out, "invalid", "results_unknown_class.json"), bad)
    bad = json.loads(json.dumps(small))
    bad[split_tokens[0]][1]["attribute_name"] = "vehicle.flying"
    results_file(os.path.join(out, "invalid", "results_unknown_attribute.json"), bad)
    bad = json.loads(json.dumps(small))
    bad[split_tokens[3]][0]["translation"] = [1.0, 2.0]
    results_file(os.path.join(out, "invalid", "results_short_translation.json"), bad)
    with open(os.path.join(out, "invalid", "results_no_results_key.json"), "w") as f:
        json.dump({"meta": {}, "detections": {}}, f)


# (results file, split) pairs whose devkit metrics are stored.
CASES = [("results_perfect.json", "synth_val"), ("results_perfect.json", "synth_one"),
         ("results_noisy.json", "synth_val"), ("results_noisy.json", "synth_one"),
         ("results_wrong_class.json", "synth_val")]


def run_devkit(data, results, split, out_json):
    from nuscenes import NuScenes
    from nuscenes.eval.common.config import config_factory
    from nuscenes.eval.detection.evaluate import DetectionEval
    nusc = NuScenes(version=VERSION, dataroot=data, verbose=False)
    with tempfile.TemporaryDirectory() as tmp:
        DetectionEval(nusc, config=config_factory("detection_cvpr_2019"), result_path=results, eval_set=split,
                      output_dir=tmp, verbose=False).main(render_curves=False)
        shutil.copyfile(os.path.join(tmp, "metrics_summary.json"), out_json)


README = """# nuScenes detection-metric fixtures

Made by `tools/make_eval_fixtures.py` (nuscenes-devkit 1.2.0 in `/work/venv-devkit`, see the script's header):

    /work/venv-devkit/bin/python tools/make_eval_fixtures.py

- `data/` — a hand-made nuScenes-format set, version `v1.0-evalfix`: all 13 tables, 3 scenes
  (`evalfix-scene-a`: 4 samples, `-b`: 3 samples with a 2 s gap, `-c`: 2 samples), LIDAR_TOP + CAM_FRONT key
  frames (plus a non-key LIDAR_TOP sweep with another ego pose), a map record with a 10x10 PNG, and
  `splits.json` with the custom splits `synth_val` (scenes a, b), `synth_one` (a) and `synth_train` (c).
  Objects cover all 10 detection classes and the metric's special cases: a car starting beyond 50 m,
  a pedestrian near 40 m, a cone beyond 30 m, boxes with zero lidar+radar points (dropped) and with radar
  points only (kept), a bicycle and a motorcycle inside a rotated `static_object.bicycle_rack` (dropped), a
  pedestrian without attribute (attribute error NaN), lone annotations and a long gap (velocity NaN),
  categories outside the benchmark (animal, stroller), a tilted box. Tables are deliberately out of order.
- `results_perfect.json` — every annotation of a detection class as a prediction (also the zero-point ones
  and those of scene c, which the splits leave out), random scores.
- `results_noisy.json` — position, size, yaw (incl. pi flips), velocity (some NaN) and attribute noise,
  misses, lower-scored duplicates, tied scores, false positives (some beyond their class range).
- `results_wrong_class.json` — the perfect boxes with permuted classes.
- `<results>.<split>.metrics_summary.json` — the devkit's `metrics_summary.json` for that pair
  (`DetectionEval(..., eval_set=split).main(render_curves=False)`); the Swift tests reproduce every figure.
- `invalid/` — submissions the devkit refuses: a missing split sample, an unknown class, an unknown
  attribute, a 2-element translation, no `results` key.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="Tests/Fixtures/nuscenes-eval")
    args = parser.parse_args()
    out = args.out
    if os.path.isdir(out):
        shutil.rmtree(out)
    data = os.path.join(out, "data")
    os.makedirs(os.path.join(out, "invalid"))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README)
    tables = build_tables(data)
    make_results(tables, out)
    for results, split in CASES:
        target = os.path.join(out, results.replace(".json", ".%s.metrics_summary.json" % split))
        run_devkit(data, os.path.join(out, results), split, target)
        print("wrote", target)


if __name__ == "__main__":
    main()

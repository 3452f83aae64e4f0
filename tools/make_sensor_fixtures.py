#!/usr/bin/env python3
"""Builds Tests/Fixtures/nuscenes-synth-tiny: the tables of a tiny synthetic set (made by
`onboard synth --rig tiny-2cam`) and, per sample and camera, lidar2img computed independently
with numpy the way PETR builds it (tools/data_converter/nuscenes_converter.py `obtain_sensor2top`,
then `CustomNuScenesDataset.get_data_info`, then `ResizeCropFlipImage` at test time).

    /work/venv/bin/python tools/make_sensor_fixtures.py [--onboard .build/debug/onboard]

The resize/crop uses the image's own size (r = max(fH/H, fW/W)); for 1600x900 that is PETR's
r = max(fH/900, fW/1600). Also writes Tests/Fixtures/pillow-resample.json: a seeded random RGB
image and Pillow's `Image.resize` of it (the call PETR makes; its default filter is bicubic) at
a few sizes, to check that Onboard's resampler gives the same bytes.
Deterministic: the same files every run.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

VERSION = "v1.0-synth"
NET_W, NET_H = 80, 32
OUT = "Tests/Fixtures/nuscenes-synth-tiny"


def quat_matrix(q):
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def sensor2top(cs, pose, l2e_t, l2e_r_mat, e2g_t, e2g_r_mat):
    """obtain_sensor2top: rotation R and translation T with points_lidar = points_sensor @ R.T + T."""
    l2e_t_s, e2g_t_s = np.array(cs["translation"]), np.array(pose["translation"])
    l2e_r_s_mat, e2g_r_s_mat = quat_matrix(cs["rotation"]), quat_matrix(pose["rotation"])
    R = (l2e_r_s_mat.T @ e2g_r_s_mat.T) @ (np.linalg.inv(e2g_r_mat).T @ np.linalg.inv(l2e_r_mat).T)
    T = (l2e_t_s @ e2g_r_s_mat.T + e2g_t_s) @ (np.linalg.inv(e2g_r_mat).T @ np.linalg.inv(l2e_r_mat).T)
    T -= e2g_t @ (np.linalg.inv(e2g_r_mat).T @ np.linalg.inv(l2e_r_mat).T) + l2e_t @ np.linalg.inv(l2e_r_mat).T
    return R.T, T


def write_pillow_fixture(path):
    from PIL import Image
    rng = np.random.default_rng(5)
    src = rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)
    src[5:15, 10:25] = 250  # a bright block gives ringing (negative lobes, clipping)
    cases = []
    for (w, h), name in [((20, 12), "bicubic"), ((17, 9), "bicubic"), ((50, 30), "bicubic"), ((37, 11), "bicubic"),
                         ((16, 9), "bilinear")]:
        flt = Image.BICUBIC if name == "bicubic" else Image.BILINEAR
        out = np.asarray(Image.fromarray(src).resize((w, h), flt))
        cases.append({"width": w, "height": h, "filter": name, "pixels": out.reshape(-1).tolist()})
    default = np.asarray(Image.fromarray(src).resize((20, 12)))  # PETR's call: no filter argument
    assert (default == np.asarray(cases[0]["pixels"], dtype=np.uint8).reshape(12, 20, 3)).all()
    with open(path, "w") as f:
        json.dump({"width": 37, "height": 23, "pixels": src.reshape(-1).tolist(), "cases": cases}, f)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--onboard", default=".build/debug/onboard")
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    root = os.path.join(work, "set")
    subprocess.run([args.onboard, "synth", "--out", root, "--scenes", "1", "--samples-per-scene", "2",
                    "--seed", "11", "--rig", "tiny-2cam", "--threads", "1"], check=True)
    tables = {}
    for name in ["sample", "sample_data", "calibrated_sensor", "sensor", "ego_pose"]:
        with open(os.path.join(root, VERSION, f"{name}.json")) as f:
            tables[name] = {r["token"]: r for r in json.load(f)}
    channel_of = {t: tables["sensor"][cs["sensor_token"]]["channel"] for t, cs in tables["calibrated_sensor"].items()}
    key_frames = {}
    for sd in tables["sample_data"].values():
        if sd["is_key_frame"]:
            key_frames.setdefault(sd["sample_token"], {})[channel_of[sd["calibrated_sensor_token"]]] = sd

    expected = {}
    for token in sorted(tables["sample"]):
        frames = key_frames[token]
        lidar = frames["LIDAR_TOP"]
        lcs, lpose = tables["calibrated_sensor"][lidar["calibrated_sensor_token"]], tables["ego_pose"][lidar["ego_pose_token"]]
        l2e_t, l2e_r_mat = np.array(lcs["translation"]), quat_matrix(lcs["rotation"])
        e2g_t, e2g_r_mat = np.array(lpose["translation"]), quat_matrix(lpose["rotation"])
        cams = {}
        for channel in ["CAM_FRONT", "CAM_BACK"]:
            sd = frames[channel]
            cs, pose = tables["calibrated_sensor"][sd["calibrated_sensor_token"]], tables["ego_pose"][sd["ego_pose_token"]]
            s2l_r, s2l_t = sensor2top(cs, pose, l2e_t, l2e_r_mat, e2g_t, e2g_r_mat)
            # get_data_info
            lidar2cam_r = np.linalg.inv(s2l_r)
            lidar2cam_t = s2l_t @ lidar2cam_r.T
            lidar2cam_rt = np.eye(4)
            lidar2cam_rt[:3, :3] = lidar2cam_r.T
            lidar2cam_rt[3, :3] = -lidar2cam_t
            intrinsic = np.array(cs["camera_intrinsic"])
            viewpad = np.eye(4)
            viewpad[:intrinsic.shape[0], :intrinsic.shape[1]] = intrinsic
            lidar2img = viewpad @ lidar2cam_rt.T
            # ResizeCropFlipImage (test): resize, bottom crop, K' = ida @ K, lidar2img = K' @ lidar2cam.
            H, W = sd["height"], sd["width"]
            r = max(NET_H / H, NET_W / W)
            new_w, new_h = int(W * r), int(H * r)
            crop_h, crop_w = new_h - NET_H, int(max(0, new_w - NET_W) / 2)
            ida = np.array([[r, 0, -crop_w], [0, r, -crop_h], [0, 0, 1.0]])
            k4 = np.eye(4)
            k4[:3, :3] = ida @ intrinsic
            cams[channel] = {"lidar2img": lidar2img.tolist(), "network_lidar2img": (k4 @ lidar2cam_rt.T).tolist()}
        expected[token] = cams

    out = OUT
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(os.path.join(root, VERSION), os.path.join(out, VERSION))
    with open(os.path.join(out, "expected_lidar2img.json"), "w") as f:
        json.dump({"network_size": [NET_W, NET_H], "samples": expected}, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("Tables of `onboard synth --scenes 1 --samples-per-scene 2 --seed 11 --rig tiny-2cam` (images left out)\n"
                "and lidar2img per sample and camera computed with numpy as PETR does\n"
                f"(raw K, and K updated for an {NET_W}x{NET_H} network input). Made by tools/make_sensor_fixtures.py.\n")
    shutil.rmtree(work)
    write_pillow_fixture("Tests/Fixtures/pillow-resample.json")


if __name__ == "__main__":
    main()

"""Reads a nuScenes-layout set (as `onboard synth` writes it) into training samples.

Geometry follows PETR (mmdet3d 0.17): lidar2img = K' @ lidar2cam with the test-time resize and
bottom crop folded into K'; boxes in the LIDAR_TOP frame with yaw_mm = -yaw_nusc - pi/2, sizes
(w, l, h) and the gravity centre; velocity from the neighbouring annotations (devkit rule, NaN -> 0).
"""
import json
import math
import os

import numpy as np
from PIL import Image

CAMERAS = ["CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT"]
CLASSES = ["car", "truck", "construction_vehicle", "bus", "trailer", "barrier", "motorcycle", "bicycle",
           "pedestrian", "traffic_cone"]
CATEGORY_TO_CLASS = {
    "vehicle.car": "car", "vehicle.truck": "truck", "vehicle.construction": "construction_vehicle",
    "vehicle.bus.rigid": "bus", "vehicle.bus.bendy": "bus", "vehicle.trailer": "trailer",
    "movable_object.barrier": "barrier", "vehicle.motorcycle": "motorcycle", "vehicle.bicycle": "bicycle",
    "human.pedestrian.adult": "pedestrian", "human.pedestrian.child": "pedestrian",
    "human.pedestrian.construction_worker": "pedestrian", "human.pedestrian.police_officer": "pedestrian",
    "movable_object.trafficcone": "traffic_cone",
}
MEAN = np.array([103.530, 116.280, 123.675], dtype=np.float32)  # BGR, PETR's normalisation
STD = np.array([57.375, 57.120, 58.395], dtype=np.float32)


def quaternion_matrix(q):
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def transform(rotation, translation):
    t = np.eye(4)
    t[:3, :3] = quaternion_matrix(rotation)
    t[:3, 3] = translation
    return t


class Tables:
    def __init__(self, root, version):
        self.root = root
        d = os.path.join(root, version)

        def load(name):
            with open(os.path.join(d, name + ".json")) as f:
                return json.load(f)

        self.samples = load("sample")
        self.sample_data = load("sample_data")
        self.calibrated = {r["token"]: r for r in load("calibrated_sensor")}
        self.sensors = {r["token"]: r for r in load("sensor")}
        self.ego = {r["token"]: r for r in load("ego_pose")}
        self.annotations = {r["token"]: r for r in load("sample_annotation")}
        instances = {r["token"]: r for r in load("instance")}
        categories = {r["token"]: r["name"] for r in load("category")}
        self.category_of = {t: categories[i["category_token"]] for t, i in instances.items()}
        self.scenes = {r["token"]: r for r in load("scene")}
        splits_path = os.path.join(d, "splits.json")
        self.splits = json.load(open(splits_path)) if os.path.exists(splits_path) else {}
        self.key_data = {}
        for r in self.sample_data:
            if r["is_key_frame"]:
                channel = self.sensors[self.calibrated[r["calibrated_sensor_token"]]["sensor_token"]]["channel"]
                self.key_data[(r["sample_token"], channel)] = r
        self.anns_of = {}
        for a in self.annotations.values():
            self.anns_of.setdefault(a["sample_token"], []).append(a)
        self.sample_time = {s["token"]: s["timestamp"] for s in self.samples}

    def sample_tokens(self, split=None):
        if split is None:
            return [s["token"] for s in self.samples]
        names = set(self.splits.get(split, []))
        if not names:
            raise SystemExit(f"{self.root}: split '{split}' not found or empty")
        scene_tokens = {t for t, s in self.scenes.items() if s["name"] in names}
        return [s["token"] for s in self.samples if s["scene_token"] in scene_tokens]

    def sensor_to_global(self, record):
        cal = self.calibrated[record["calibrated_sensor_token"]]
        pose = self.ego[record["ego_pose_token"]]
        return transform(pose["rotation"], pose["translation"]) @ transform(cal["rotation"], cal["translation"])

    def velocity(self, ann):
        """Global xy velocity as the devkit's box_velocity (centred difference, 1.5 s rule)."""
        has_prev, has_next = bool(ann["prev"]), bool(ann["next"])
        if not has_prev and not has_next:
            return np.array([np.nan, np.nan])
        first = self.annotations[ann["prev"]] if has_prev else ann
        last = self.annotations[ann["next"]] if has_next else ann
        dt = (self.sample_time[last["sample_token"]] - self.sample_time[first["sample_token"]]) * 1e-6
        max_dt = 3.0 if has_prev and has_next else 1.5
        if dt <= 0 or dt > max_dt:
            return np.array([np.nan, np.nan])
        return (np.array(last["translation"][:2]) - np.array(first["translation"][:2])) / dt


class Crop:
    """PETR's test-time ResizeCropFlipImage for one source size and network size."""

    def __init__(self, source_hw, final_hw):
        self.source_h, self.source_w = source_hw
        self.final_h, self.final_w = final_hw
        self.scale = max(self.final_h / self.source_h, self.final_w / self.source_w)
        self.resized = (int(self.source_w * self.scale), int(self.source_h * self.scale))
        self.crop_x = (self.resized[0] - self.final_w) // 2
        self.crop_y = self.resized[1] - self.final_h
        ida = np.eye(4)
        ida[0, 0] = ida[1, 1] = self.scale
        ida[0, 2], ida[1, 2] = -self.crop_x, -self.crop_y
        self.ida = ida

    def image(self, path):
        img = Image.open(path).convert("RGB").resize(self.resized, Image.BICUBIC)
        img = img.crop((self.crop_x, self.crop_y, self.crop_x + self.final_w, self.crop_y + self.final_h))
        return np.asarray(img, dtype=np.uint8)[:, :, ::-1].copy()  # BGR as mmcv loads


def load_sample(tables, token, crop, with_images=True):
    """Images uint8 [6,H,W,3] BGR, lidar2img [6,4,4], boxes [n,9] (x,y,z_gravity,w,l,h,yaw_mm,vx,vy), labels [n]."""
    lidar = tables.key_data[(token, "LIDAR_TOP")]
    lidar_to_global = tables.sensor_to_global(lidar)
    global_to_lidar = np.linalg.inv(lidar_to_global)
    images, lidar2img = [], []
    for cam in CAMERAS:
        record = tables.key_data[(token, cam)]
        cam_to_global = tables.sensor_to_global(record)
        lidar_to_cam = np.linalg.inv(cam_to_global) @ lidar_to_global
        k = np.eye(4)
        k[:3, :3] = np.array(tables.calibrated[record["calibrated_sensor_token"]]["camera_intrinsic"])
        lidar2img.append(crop.ida @ k @ lidar_to_cam)
        if with_images:
            images.append(crop.image(os.path.join(tables.root, record["filename"])))
    boxes, labels = [], []
    rot_gl = global_to_lidar[:3, :3]
    for ann in tables.anns_of.get(token, []):
        name = CATEGORY_TO_CLASS.get(tables.category_of[ann["instance_token"]])
        if name is None or ann["num_lidar_pts"] + ann["num_radar_pts"] <= 0:
            continue
        centre = global_to_lidar @ np.append(np.array(ann["translation"]), 1.0)
        r = rot_gl @ quaternion_matrix(ann["rotation"])
        yaw_nusc = math.atan2(r[1, 0], r[0, 0])
        w, l, h = ann["size"]
        v = np.nan_to_num(tables.velocity(ann), nan=0.0)
        v = (rot_gl @ np.array([v[0], v[1], 0.0]))[:2]
        boxes.append([centre[0], centre[1], centre[2], w, l, h, -yaw_nusc - math.pi / 2, v[0], v[1]])
        labels.append(CLASSES.index(name))
    boxes = np.array(boxes, dtype=np.float32).reshape(-1, 9)
    labels = np.array(labels, dtype=np.int64)
    return (np.stack(images) if with_images else None), np.stack(lidar2img).astype(np.float32), boxes, labels


def normalize_images(images_u8):
    """uint8 BGR [..., H, W, 3] -> float32 [..., 3, H, W] with PETR's mean/std."""
    x = (images_u8.astype(np.float32) - MEAN) / STD
    return np.moveaxis(x, -1, -3)

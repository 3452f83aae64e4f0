"""PETR's NMS-free decoding and the mmdet3d-0.17 export to nuScenes results (the PyTorch side of
`onboard detect`, used to follow training and as an oracle for the Swift pipeline)."""
import math

import numpy as np
import torch

from .nuscenes_set import CAMERAS, CLASSES, quaternion_matrix, transform

CLASS_RANGE = {"car": 50, "truck": 50, "bus": 50, "trailer": 50, "construction_vehicle": 50, "pedestrian": 40,
               "motorcycle": 40, "bicycle": 40, "traffic_cone": 30, "barrier": 30}
DEFAULT_ATTRIBUTE = {"car": "vehicle.parked", "pedestrian": "pedestrian.moving", "trailer": "vehicle.parked",
                     "truck": "vehicle.parked", "bus": "vehicle.moving", "motorcycle": "cycle.without_rider",
                     "construction_vehicle": "vehicle.parked", "bicycle": "cycle.without_rider", "barrier": "",
                     "traffic_cone": ""}


def decode(cls_logits, boxes, max_num, post_center_range, score_threshold=None):
    """Last layer's [Q, C] logits and [Q, 10] boxes -> (boxes [K, 9] with z_bottom, scores, labels, queries)."""
    c = cls_logits.shape[-1]
    scores, index = cls_logits.sigmoid().flatten().topk(max_num)
    labels, query = index % c, torch.div(index, c, rounding_mode="floor")
    b = boxes[query]
    yaw = torch.atan2(b[:, 6], b[:, 7])
    w, l, h = b[:, 2].exp(), b[:, 3].exp(), b[:, 5].exp()
    out = torch.stack([b[:, 0], b[:, 1], b[:, 4] - h / 2, w, l, h, yaw, b[:, 8], b[:, 9]], dim=1)
    lo, hi = torch.tensor(post_center_range[:3]), torch.tensor(post_center_range[3:])
    centre = torch.stack([b[:, 0], b[:, 1], b[:, 4]], dim=1)
    keep = ((centre >= lo) & (centre <= hi)).all(dim=1)
    if score_threshold is not None:
        keep &= scores > score_threshold
    return out[keep], scores[keep], labels[keep], query[keep]


def yaw_quaternion(yaw):
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


def matrix_quaternion(m):
    w = math.sqrt(max(0.0, 1 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = math.copysign(math.sqrt(max(0.0, 1 + m[0, 0] - m[1, 1] - m[2, 2])) / 2, m[2, 1] - m[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1 - m[0, 0] + m[1, 1] - m[2, 2])) / 2, m[0, 2] - m[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1 - m[0, 0] - m[1, 1] + m[2, 2])) / 2, m[1, 0] - m[0, 1])
    return [w, x, y, z]


def to_results(tables, token, boxes, scores, labels):
    """mmdet3d 0.17 `output_to_nusc_box` + `lidar_nusc_box_to_global` + attribute rules."""
    lidar = tables.key_data[(token, "LIDAR_TOP")]
    cal = tables.calibrated[lidar["calibrated_sensor_token"]]
    pose = tables.ego[lidar["ego_pose_token"]]
    lidar_to_ego = transform(cal["rotation"], cal["translation"])
    ego_to_global = transform(pose["rotation"], pose["translation"])
    out = []
    for box, score, label in zip(boxes.tolist(), scores.tolist(), labels.tolist()):
        x, y, zb, w, l, h, yaw, vx, vy = box
        name = CLASSES[label]
        r = quaternion_matrix(yaw_quaternion(-yaw - math.pi / 2))
        centre = np.array([x, y, zb + h / 2, 1.0])
        velocity = np.array([vx, vy, 0.0])
        centre_ego = lidar_to_ego @ centre
        if np.linalg.norm(centre_ego[:2]) > CLASS_RANGE[name]:
            continue
        r_global = ego_to_global[:3, :3] @ lidar_to_ego[:3, :3] @ r
        v_global = ego_to_global[:3, :3] @ lidar_to_ego[:3, :3] @ velocity
        centre_global = ego_to_global @ centre_ego
        speed = math.hypot(v_global[0], v_global[1])
        if speed > 0.2:
            attr = ("vehicle.moving" if name in ("car", "construction_vehicle", "bus", "truck", "trailer")
                    else "cycle.with_rider" if name in ("bicycle", "motorcycle") else DEFAULT_ATTRIBUTE[name])
        else:
            attr = ("pedestrian.standing" if name == "pedestrian" else "vehicle.stopped" if name == "bus"
                    else DEFAULT_ATTRIBUTE[name])
        out.append({"sample_token": token, "translation": centre_global[:3].tolist(), "size": [w, l, h],
                    "rotation": matrix_quaternion(r_global), "velocity": v_global[:2].tolist(),
                    "detection_name": name, "detection_score": score, "attribute_name": attr})
    return out


def results_document(results):
    return {"meta": {"use_camera": True, "use_lidar": False, "use_radar": False, "use_map": False,
                     "use_external": False}, "results": results}

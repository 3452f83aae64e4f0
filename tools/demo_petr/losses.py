"""PETR's training losses: Hungarian matching (focal + L1 cost), focal and L1 losses, query
denoising targets, and the dense auxiliary losses on the backbone."""
import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

CODE_WEIGHTS = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.2])
CLS_WEIGHT, REG_WEIGHT = 2.0, 0.25


def normalize_boxes(boxes):
    """(x, y, z, w, l, h, yaw, vx, vy) -> PETR's regression targets (cx, cy, log w, log l, cz, log h, sin, cos, vx, vy)."""
    return torch.cat([boxes[:, 0:2], boxes[:, 3:5].log(), boxes[:, 2:3], boxes[:, 5:6].log(),
                      boxes[:, 6:7].sin(), boxes[:, 6:7].cos(), boxes[:, 7:9]], dim=1)


def focal_cost(logits, labels, alpha=0.25, gamma=2.0, eps=1e-12):
    p = logits.sigmoid()
    neg = -(1 - p + eps).log() * (1 - alpha) * p.pow(gamma)
    pos = -(p + eps).log() * alpha * (1 - p).pow(gamma)
    return pos[:, labels] - neg[:, labels]


def hungarian(logits, boxes, gt_labels, gt_targets):
    if len(gt_labels) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cost = CLS_WEIGHT * focal_cost(logits, gt_labels) + REG_WEIGHT * torch.cdist(boxes[:, :8], gt_targets[:, :8], p=1)
    rows, cols = linear_sum_assignment(cost.detach().cpu().numpy())
    return rows, cols


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """Sigmoid focal loss summed; targets one-hot [Q, C] (all zeros for background)."""
    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    pt = p * targets + (1 - p) * (1 - targets)
    w = alpha * targets + (1 - alpha) * (1 - targets)
    return (w * (1 - pt).pow(gamma) * ce).sum()


def set_loss(cls, boxes, gt_labels, gt_targets, matched_rows, matched_cols, num_classes):
    """One layer, one sample: focal over all queries, weighted L1 over matched ones (sums)."""
    target = torch.zeros_like(cls)
    if len(matched_rows):
        target[matched_rows, gt_labels[matched_cols]] = 1.0
    lc = focal_loss(cls, target)
    if len(matched_rows) == 0:
        return lc, boxes.sum() * 0
    diff = (boxes[matched_rows] - gt_targets[matched_cols]).abs() * CODE_WEIGHTS
    return lc, torch.nan_to_num(diff).sum()


def denoising_queries(gt_boxes, pc_range, groups, noise_scale, split, generator):
    """Noisy reference points [K*G, 3] in [0,1] around the GT centres, the GT index of each, and whether
    it is a positive (noise inside `split`) — as StreamPETR's prepare_for_dn."""
    g = gt_boxes.shape[0]
    centres = gt_boxes[:, 0:3].repeat(groups, 1)
    half = (gt_boxes[:, 3:6] / 2).repeat(groups, 1)
    noise = torch.rand(centres.shape, generator=generator) * 2 - 1
    noisy = centres + noise * half * noise_scale
    lo = torch.tensor(pc_range[:3]); span = torch.tensor(pc_range[3:]) - lo
    refs = ((noisy - lo) / span).clamp(0, 1)
    positive = noise.norm(dim=1) <= split
    return refs, torch.arange(g).repeat(groups), positive


def denoising_mask(groups, per_group, matching):
    """Self-attention mask (True = blocked): DN groups see themselves and the matching queries;
    matching queries never see DN queries."""
    total = groups * per_group + matching
    mask = torch.ones(total, total, dtype=torch.bool)
    for i in range(groups):
        s = slice(i * per_group, (i + 1) * per_group)
        mask[s, s] = False
    mask[:, groups * per_group:] = False
    return mask


def centre_heatmap_targets(gt_boxes, gt_labels, lidar2img, feat_hw, image_hw, num_classes):
    """Per camera: Gaussian class heatmaps at the projected box centres [N, C, h, w], and log-depth
    targets with their mask [N, 1, h, w]."""
    n = lidar2img.shape[0]
    fh, fw = feat_hw
    stride_y, stride_x = image_hw[0] / fh, image_hw[1] / fw
    heat = np.zeros((n, num_classes, fh, fw), dtype=np.float32)
    depth = np.zeros((n, 1, fh, fw), dtype=np.float32)
    mask = np.zeros((n, 1, fh, fw), dtype=np.float32)
    if len(gt_labels) == 0:
        return heat, depth, mask
    centres = np.concatenate([gt_boxes[:, 0:3], np.ones((len(gt_boxes), 1), np.float32)], axis=1)
    ys, xs = np.mgrid[0:fh, 0:fw]
    for cam in range(n):
        p = centres @ lidar2img[cam].T
        for i in range(len(gt_labels)):
            d = p[i, 2]
            if d < 0.5:
                continue
            u, v = p[i, 0] / d / stride_x, p[i, 1] / d / stride_y
            if not (0 <= u < fw and 0 <= v < fh):
                continue
            # radius from the box's apparent size on the feature grid
            size = max(gt_boxes[i, 3], gt_boxes[i, 4]) * lidar2img[cam][0, 0] / d / stride_x
            sigma = max(0.5, size / 6)
            g = np.exp(-((xs - u) ** 2 + (ys - v) ** 2) / (2 * sigma * sigma))
            heat[cam, gt_labels[i]] = np.maximum(heat[cam, gt_labels[i]], g)
            cu, cv = int(u), int(v)
            if mask[cam, 0, cv, cu] == 0 or depth[cam, 0, cv, cu] > np.log(d):
                depth[cam, 0, cv, cu] = np.log(d)
                mask[cam, 0, cv, cu] = 1
            heat[cam, gt_labels[i], cv, cu] = 1.0
    return heat, depth, mask


def heatmap_focal_loss(logits, target):
    """CenterNet's penalty-reduced focal loss, normalised by the number of centres."""
    p = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg = 1 - pos
    pos_loss = (p.log() * (1 - p).pow(2) * pos).sum()
    neg_loss = ((1 - p).log() * p.pow(2) * (1 - target).pow(4) * neg).sum()
    return -(pos_loss + neg_loss) / pos.sum().clamp(min=1)

"""Camera-set JPEG pipeline benchmark (`bench_peers.py --jpeg IMG ...`).

Times decode + PETR test preprocessing of one camera set (e.g. 6 x 1600x900 JPEGs) into the
[6,3,320,800] network input: Onboard's `onboard preprocess` (libjpeg-turbo with DCT scaling, and
the exact full-decode + Pillow-bicubic variant) against OpenCV (cv2.imdecode + cv2.resize
INTER_LINEAR + bottom crop + mmcv-style normalize, cv2.setNumThreads(N) and N worker threads over
the images). Reports frames (camera sets) per second, medians of --iterations, in alternating rounds.
"""
import concurrent.futures
import json
import subprocess
import time

import numpy as np

MEAN = np.array([103.530, 116.280, 123.675], dtype=np.float64)
STD = np.array([57.375, 57.120, 58.395], dtype=np.float64)


def opencv_set(paths, width, height, pool):
    import cv2

    def one(path):
        img = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)  # BGR, as mmcv.imread
        h, w = img.shape[:2]
        r = max(height / h, width / w)
        new_w, new_h = int(w * r), int(h * r)
        img = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        x0 = max(0, new_w - width) // 2
        img = img[new_h - height:, x0:x0 + width].astype(np.float32)
        cv2.subtract(img, MEAN.reshape(1, -1), img)
        cv2.multiply(img, 1 / STD.reshape(1, -1), img)
        return img.transpose(2, 0, 1)

    return np.stack(list(pool.map(one, paths)))


def onboard_fps(binary, paths, width, height, threads, iterations, exact):
    cmd = [binary, "preprocess", "--images", *paths, "--size", f"{width}x{height}", "--threads", str(threads),
           "--iterations", str(iterations), "--json"] + (["--exact"] if exact else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["frames_per_second"]


def bench_jpeg(args):
    import cv2
    cv2.setNumThreads(args.threads)
    width, height = (int(v) for v in args.jpeg_size.split("x"))
    paths = args.jpeg
    pool = concurrent.futures.ThreadPoolExecutor(args.threads)
    for _ in range(args.warmup):
        opencv_set(paths, width, height, pool)
    rounds = {"opencv": [], "onboard": [], "onboard_exact": []}
    for _ in range(3):
        times = []
        for _ in range(args.iterations):
            t = time.perf_counter()
            opencv_set(paths, width, height, pool)
            times.append(time.perf_counter() - t)
        rounds["opencv"].append(1 / float(np.median(times)))
        rounds["onboard"].append(onboard_fps(args.onboard, paths, width, height, args.threads, args.iterations, False))
        rounds["onboard_exact"].append(onboard_fps(args.onboard, paths, width, height, args.threads, args.iterations, True))
    fps = {k: float(np.median(v)) for k, v in rounds.items()}
    print(f"JPEG pipeline: {len(paths)} images -> [{len(paths)},3,{height},{width}], threads {args.threads}, "
          f"median of 3 rounds x {args.iterations} iterations")
    print(f"  {'engine':34s} {'sets/s':>8s} {'vs OpenCV':>10s}")
    for name, label in [("opencv", "OpenCV imdecode+resize+normalize"), ("onboard", "onboard (DCT-scaled decode)"),
                        ("onboard_exact", "onboard --exact (full + Pillow)")]:
        print(f"  {label:34s} {fps[name]:8.2f} {fps[name] / fps['opencv']:9.2f}x")
    print(json.dumps({"jpeg_frames_per_second": fps, "ratio_vs_opencv": fps["onboard"] / fps["opencv"]}))
    return 0

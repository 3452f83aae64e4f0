"""INT8 GEMM throughput: Onboard's packed u8 x s8 -> s32 kernel (`onboard bench-gemm`) against
ONNX Runtime's MatMulInteger on the same shapes and thread count, in one run.
Used by `bench_peers.py --gemm`."""

import json
import subprocess

import numpy as np

# Square reference, DeiT-S linears (qkv, proj, fc1, fc2), PETR decoder cross-attention memory.
SHAPES = [(1024, 1024, 1024), (197, 384, 1152), (197, 384, 384), (197, 384, 1536), (197, 1536, 384), (6000, 256, 256)]


def weights(k, n, bits):
    """Random B codes: 8 bits -128...127, or 7 bits -64...64 (exact in vpmaddubsw, 2·255·64 < 2^15)."""
    rng = np.random.default_rng(0)
    return rng.integers(-128, 128, (k, n), dtype=np.int8) if bits == 8 else rng.integers(-64, 65, (k, n), dtype=np.int8)


def ort_session(b, threads):
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    k, n = b.shape
    graph = helper.make_graph([helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "g",
                              [helper.make_tensor_value_info("A", TensorProto.UINT8, ["m", k])],
                              [helper.make_tensor_value_info("Y", TensorProto.INT32, ["m", n])],
                              initializer=[numpy_helper.from_array(b, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def activations(m, k):
    return np.random.default_rng(1).integers(0, 256, (m, k), dtype=np.uint8)


def ort_matmul_integer_ms(m, k, n, bits, threads, iterations):
    import time
    session = ort_session(weights(k, n, bits), threads)
    a = activations(m, k)
    for _ in range(3):
        session.run(None, {"A": a})
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        session.run(None, {"A": a})
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def ort_exact_fraction(m, k, n, bits, threads):
    """Fraction of ORT's outputs equal to the exact product (float64 products of these sizes are exact)."""
    b = weights(k, n, bits)
    a = activations(m, k)
    y = ort_session(b, threads).run(None, {"A": a})[0]
    return float(np.mean(y == (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)))


def onboard_gops(args, m, k, n, bits):
    p = subprocess.run([args.onboard, "bench-gemm", "--precision", "int8", "--threads", str(args.threads),
                        "--iterations", str(args.iterations), "--weight-bits", str(bits), "--json",
                        "--shape", f"{m}x{k}x{n}"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"onboard bench-gemm failed: {p.stderr.strip()}")
    row = json.loads(p.stdout.strip().splitlines()[-1])
    return row["gops"], row["isa"]


def spread(values):
    """Median and the half-range of the middle values (noise) as 'median ±x'."""
    v = sorted(values)
    trim = v[len(v) // 4: len(v) - len(v) // 4] or v
    return f"{np.median(v):6.0f} ±{(trim[-1] - trim[0]) / 2:3.0f}"


def bench_gemm(args):
    """Per shape, `args.rounds` rounds alternating Onboard (8- and 7-bit weights) and ORT (7-bit
    weights, the range it is exact on); medians over rounds, ratios per round. ORT's outputs are
    checked against the exact product for both weight ranges (its u8 x s8 path saturates int16)."""
    print(f"INT8 GEMM, {args.threads} threads (GOP/s = 2·M·K·N / median time; {args.rounds} alternating rounds; "
          "± = half the interquartile range)")
    print(f"  {'M x K x N':18s} {'onboard w8':>11s} {'onboard w7':>11s} {'ORT w7':>11s} {'w8/ORT':>7s} {'w7/ORT':>7s}"
          f"  ORT exact w8 / w7   onboard isa")
    for m, k, n in SHAPES:
        ours8, ours7, theirs, r8, r7 = [], [], [], [], []
        for _ in range(args.rounds):
            gops8, isa = onboard_gops(args, m, k, n, 8)
            gops7, _ = onboard_gops(args, m, k, n, 7)
            ort_gops = 2 * m * k * n / ort_matmul_integer_ms(m, k, n, 7, args.threads, args.iterations) / 1e6
            ours8.append(gops8)
            ours7.append(gops7)
            theirs.append(ort_gops)
            r8.append(gops8 / ort_gops)
            r7.append(gops7 / ort_gops)
        exact8, exact7 = (ort_exact_fraction(m, k, n, bits, args.threads) for bits in (8, 7))
        print(f"  {m:5d}x{k:5d}x{n:5d}  {spread(ours8)} {spread(ours7)} {spread(theirs)} {np.median(r8):6.2f}x "
              f"{np.median(r7):6.2f}x  {100 * exact8:6.1f}% / {100 * exact7:5.1f}%   {isa}", flush=True)

"""INT8 GEMM throughput: Onboard's packed u8 x s8 -> s32 kernel (`onboard bench-gemm`) against
ONNX Runtime's MatMulInteger on the same shapes and thread count, in one run.
Used by `bench_peers.py --gemm`."""

import json
import subprocess

import numpy as np

# Square reference, DeiT-S linears (qkv, proj, fc1, fc2), PETR decoder cross-attention memory.
SHAPES = [(1024, 1024, 1024), (197, 384, 1152), (197, 384, 384), (197, 384, 1536), (197, 1536, 384), (6000, 256, 256)]


def ort_matmul_integer_ms(m, k, n, threads, iterations):
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    b = rng.integers(-127, 127, (k, n), dtype=np.int8)
    graph = helper.make_graph([helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "g",
                              [helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])],
                              [helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n])],
                              initializer=[numpy_helper.from_array(b, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    a = rng.integers(0, 255, (m, k), dtype=np.uint8)
    import time
    for _ in range(3):
        session.run(None, {"A": a})
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        session.run(None, {"A": a})
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def onboard_gops(args, m, k, n):
    p = subprocess.run([args.onboard, "bench-gemm", "--precision", "int8", "--threads", str(args.threads),
                        "--iterations", str(args.iterations), "--json", "--shape", f"{m}x{k}x{n}"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"onboard bench-gemm failed: {p.stderr.strip()}")
    row = json.loads(p.stdout.strip().splitlines()[-1])
    return row["gops"], row["isa"]


def bench_gemm(args):
    """Per shape, `args.rounds` rounds alternating Onboard and ORT; medians over rounds."""
    print(f"INT8 GEMM, {args.threads} threads (GOP/s = 2·M·K·N / median time; {args.rounds} alternating rounds)")
    print(f"  {'M x K x N':18s} {'onboard':>10s} {'ORT':>10s} {'ratio':>7s}   onboard isa")
    for m, k, n in SHAPES:
        ours, theirs, ratios = [], [], []
        for _ in range(args.rounds):
            gops, isa = onboard_gops(args, m, k, n)
            ort_gops = 2 * m * k * n / ort_matmul_integer_ms(m, k, n, args.threads, args.iterations) / 1e6
            ours.append(gops)
            theirs.append(ort_gops)
            ratios.append(gops / ort_gops)
        print(f"  {m:5d}x{k:5d}x{n:5d}  {np.median(ours):10.0f} {np.median(theirs):10.0f} {np.median(ratios):6.2f}x   {isa}",
              flush=True)

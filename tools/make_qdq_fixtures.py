#!/usr/bin/env python3
"""QDQ models as ONNX Runtime's `quantize_static` writes them, from the FP32 fixtures of
tools/make_onnx_fixtures.py, with ONNX Runtime's outputs, for Tests/Fixtures/onnx/:
- `<name>_qdq_<setting>.onnx`: the fixture quantized (QuantFormat.QDQ) on 8 seeded Gaussian inputs
  of its input's shape; settings `u8` (the defaults: uint8 asymmetric activations, int8 symmetric
  per-tensor weights) and `s8pc` (int8 activations, int8 symmetric per-channel weights);
- `<name>_qdq_<setting>.safetensors`: `input` (4 seeded Gaussian samples of the FP32 fixture's
  input shape, so that the outputs have 40 elements), `output` (ORT on the QDQ
  model with graph optimizations off, ORT_DISABLE_ALL: every DequantizeLinear, float op and
  QuantizeLinear as the file defines them) and `fp32` (ORT on the FP32 model).
Needs onnx, onnxruntime and safetensors (a venv outside the repo); no torch.
"""
import os
import sys
import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from safetensors.numpy import load_file, save_file

ort.set_default_logger_severity(3)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = f"{ROOT}/Tests/Fixtures/onnx"
MODELS = ["vit_tiny_opset17", "resnet_tiny", "mobilenet_v2"]
SETTINGS = {
    "u8": dict(),
    "s8pc": dict(activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True),
}


class Gaussian(CalibrationDataReader):
    def __init__(self, shape):
        rng = np.random.default_rng(7)  # the same samples for every setting
        self.samples = iter([{"input": rng.standard_normal(shape).astype(np.float32)} for _ in range(8)])

    def get_next(self):
        return next(self.samples, None)


def run(path, x, optimize):
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def main(out=DIR, models=MODELS):
    for name in models:
        shape = load_file(f"{DIR}/{name}.safetensors")["input"].shape
        x = np.random.default_rng(11).standard_normal((4,) + shape[1:]).astype(np.float32)
        fp32 = run(f"{DIR}/{name}.onnx", x, True)
        for setting, options in SETTINGS.items():
            path = f"{out}/{name}_qdq_{setting}.onnx"
            quantize_static(f"{DIR}/{name}.onnx", path, Gaussian(shape), quant_format=QuantFormat.QDQ, **options)
            qdq = run(path, x, False)
            save_file({"input": x, "output": qdq.astype(np.float32), "fp32": fp32.astype(np.float32)},
                      f"{out}/{name}_qdq_{setting}.safetensors")
            sqnr = 10 * np.log10((fp32 ** 2).sum() / ((qdq - fp32) ** 2).sum())
            print(f"{name}_qdq_{setting}: {os.path.getsize(path) // 1024} KB, ORT QDQ SQNR vs FP32 {sqnr:.1f} dB")


if __name__ == "__main__":
    main(*sys.argv[1:2])

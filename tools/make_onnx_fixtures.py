#!/usr/bin/env python3
"""Small ONNX models as `torch.onnx.export` writes them, with ONNX Runtime's FP32 outputs, for
Tests/Fixtures/onnx/:
- `<name>.onnx`: a reduced member of each family the importer covers (the same op patterns as the
  full-size model, a few hundred KB): timm ViT (LayerNormalization at opset 17, the decomposed
  LayerNorm at opset 14), DeiT with its distillation token, a torchvision-style
  ResNet, torchvision MobileNetV2 / V3-Small and EfficientNet-B0 at reduced width;
- `<name>.safetensors`: `input` (the graph's one input, seeded) and `output` (ORT FP32 on it).
Random weights (seeded); batch norms get random statistics so that folding them is tested.
Tests/Fixtures/graph/resnet_tiny (the registry's graph-bundle fixture) is then
`onboard import-onnx Tests/Fixtures/onnx/resnet_tiny.onnx --out Tests/Fixtures/graph/resnet_tiny --force`.
Needs torch, torchvision, timm, onnx and onnxruntime (a venv outside the repo).
"""
import os
import numpy as np
import onnxruntime as ort
import timm
import torch
import torchvision
from safetensors.numpy import save_file
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = f"{ROOT}/Tests/Fixtures/onnx"


def randomize_batch_norms(model: torch.nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.3, 0.3)


class TinyResNet(torch.nn.Module):
    """torchvision's ResNet layout (stem conv 7x7/2 + BN + ReLU + max pool, BasicBlocks with 1x1
    downsample, global average pool, flatten, fc) at widths 8..32."""

    def __init__(self):
        super().__init__()
        block = torchvision.models.resnet.BasicBlock
        self.inner = torchvision.models.resnet.ResNet(block, [1, 1, 1, 1], num_classes=10)
        # Shrink every conv / bn / fc by rebuilding the model with narrow widths.
        self.inner.inplanes = 8
        self.inner.conv1 = torch.nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.inner.bn1 = torch.nn.BatchNorm2d(8)
        self.inner.layer1 = self.inner._make_layer(block, 8, 1)
        self.inner.layer2 = self.inner._make_layer(block, 16, 1, stride=2)
        self.inner.layer3 = self.inner._make_layer(block, 24, 1, stride=2)
        self.inner.layer4 = self.inner._make_layer(block, 32, 1, stride=2)
        self.inner.fc = torch.nn.Linear(32, 10)

    def forward(self, x):
        return self.inner(x)


def models():
    vit = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4, num_classes=10)
    yield "vit_tiny_opset17", timm.create_model("vit_tiny_patch16_224", pretrained=False, **vit), (1, 3, 32, 32), 17
    yield "vit_tiny_opset14", timm.create_model("vit_tiny_patch16_224", pretrained=False, **vit), (1, 3, 32, 32), 14
    yield "deit_tiny_distilled", timm.create_model("deit_tiny_distilled_patch16_224", pretrained=False, **vit), (2, 3, 32, 32), 17
    yield "resnet_tiny", TinyResNet(), (1, 3, 64, 64), 17
    yield "mobilenet_v2", torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10), (1, 3, 64, 64), 17
    yield "mobilenet_v3_small", torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=10), (1, 3, 64, 64), 17
    settings, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    yield "efficientnet_b0", EfficientNet(settings, 0.2, last_channel=last, num_classes=10), (1, 3, 64, 64), 17


def main():
    os.makedirs(OUT, exist_ok=True)
    for index, (name, model, shape, opset) in enumerate(models()):
        torch.manual_seed(index)
        for p in model.parameters():
            p.data.normal_(0, 0.2 if p.dim() > 1 else 0.05)
        randomize_batch_norms(model)
        model.eval()
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(100 + index))
        path = f"{OUT}/{name}.onnx"
        with torch.no_grad():
            torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              opset_version=opset, dynamo=False)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        (out,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            reference = model(x).numpy()
        gap = np.abs(out - reference).max() / np.abs(reference).max()
        save_file({"input": x.numpy(), "output": out.astype(np.float32)}, f"{OUT}/{name}.safetensors")
        ops = sorted({n.op_type for n in __import__("onnx").load(path).graph.node})
        print(f"{name}: opset {opset}, {os.path.getsize(path) // 1024} KB, ORT vs torch {gap:.1e}, ops {' '.join(ops)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the small random-weight backbone/neck fixtures used by the Swift tests.

  python tools/make_backbone_fixtures.py [--out Tests/Fixtures/backbones]

Each case directory holds:

  config.json          {"backbone": {...}, "neck": {...} | null}  (the PETR config.json fields)
  weights.safetensors  official state-dict names: img_backbone.* (incl. BN running stats and
                       num_batches_tracked), img_neck.*; float32
  inputs.safetensors   images [N, 3, H, W] float32
  expected.safetensors backbone.{k} (every backbone output, in order) and features (the map the
                       head uses: neck level 0, or the single backbone output), float32

The torch modules below are written from the official code (mmdet v2 `ResNet`, PETR's
`VoVNetCP` and `CPFPN`); module names equal the official ones, so `state_dict()` gives the
checkpoint names. The ViT feature backbone is timm's VisionTransformer (no class token,
pos_embed for the exact grid, final norm); the Vim one is tools/vim_reference.py (hustvl/Vim's
forward, official names, its class token dropped at the output). Expected outputs are computed in eval mode in
float64 from the stored float32 weights, then rounded to float32. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onboard_bundle import write_json, write_safetensors, write_text  # noqa: E402


# ----------------------------------------------------------------------------
# mmdet v2 ResNet (BasicBlock / Bottleneck / ResLayer), eval mode, BN2d, no DCN / plugins


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None, style="pytorch"):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ModulatedDeformConv2dPack(nn.Module):
    """mmcv's DCNv2 ('DCNv2' = ModulatedDeformConv2dPack): conv_offset predicts 3*dg*kh*kw
    channels; offset = cat(first two thirds), mask = sigmoid(last third); the deformable conv
    itself is torchvision's deform_conv2d (same sampling as mmcv's modulated_deform_conv2d)."""

    def __init__(self, in_ch, out_ch, kernel_size, stride=1, padding=0, dilation=1, deform_groups=1, bias=False):
        super().__init__()
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.conv_offset = nn.Conv2d(in_ch, deform_groups * 3 * kernel_size * kernel_size, kernel_size,
                                     stride=stride, padding=padding, dilation=dilation, bias=True)

    def forward(self, x):
        from torchvision.ops import deform_conv2d
        out = self.conv_offset(x)
        o1, o2, mask = torch.chunk(out, 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        mask = torch.sigmoid(mask)
        return deform_conv2d(x, offset, self.weight, self.bias, stride=self.stride, padding=self.padding,
                             dilation=self.dilation, mask=mask)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None, style="pytorch", dcn=None):
        super().__init__()
        assert style in ("pytorch", "caffe")
        conv1_stride, conv2_stride = (1, stride) if style == "pytorch" else (stride, 1)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride=conv1_stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        if dcn is None:
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=conv2_stride, padding=dilation, dilation=dilation, bias=False)
        else:
            self.conv2 = ModulatedDeformConv2dPack(planes, planes, 3, stride=conv2_stride, padding=dilation,
                                                   dilation=dilation, deform_groups=dcn["deform_groups"], bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    arch_settings = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)),
                     50: (Bottleneck, (3, 4, 6, 3)), 101: (Bottleneck, (3, 4, 23, 3))}

    def __init__(self, depth=None, block=None, layers=None, in_channels=3, stem_channels=64, base_channels=64,
                 strides=(1, 2, 2, 2), out_indices=(3,), style="pytorch", stage_with_dcn=None, deform_groups=1):
        super().__init__()
        if depth is not None:
            block_cls, layers = self.arch_settings[depth]
        else:
            block_cls = {"basic": BasicBlock, "bottleneck": Bottleneck}[block]
        self.out_indices = out_indices
        self.conv1 = nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.res_layers = []
        inplanes = stem_channels
        for i, num_blocks in enumerate(layers):
            planes = base_channels * 2 ** i
            stride = strides[i]
            downsample = None
            if stride != 1 or inplanes != planes * block_cls.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes * block_cls.expansion, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes * block_cls.expansion))
            extra = {}
            if stage_with_dcn is not None and stage_with_dcn[i]:
                extra = dict(dcn=dict(deform_groups=deform_groups))
            blocks = [block_cls(inplanes, planes, stride, 1, downsample, style, **extra)]
            inplanes = planes * block_cls.expansion
            for _ in range(1, num_blocks):
                blocks.append(block_cls(inplanes, planes, 1, 1, None, style, **extra))
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            self.res_layers.append(f"layer{i + 1}")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs


# ----------------------------------------------------------------------------
# PETR VoVNetCP (projects/mmdet3d_plugin/models/backbones/vovnetcp.py), eval mode


def conv3x3(in_ch, out_ch, module_name, postfix, stride=1):
    return [
        (f"{module_name}_{postfix}/conv", nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)),
        (f"{module_name}_{postfix}/norm", nn.BatchNorm2d(out_ch)),
        (f"{module_name}_{postfix}/relu", nn.ReLU(inplace=True)),
    ]


def conv1x1(in_ch, out_ch, module_name, postfix):
    return [
        (f"{module_name}_{postfix}/conv", nn.Conv2d(in_ch, out_ch, 1, bias=False)),
        (f"{module_name}_{postfix}/norm", nn.BatchNorm2d(out_ch)),
        (f"{module_name}_{postfix}/relu", nn.ReLU(inplace=True)),
    ]


def dw_conv3x3(in_ch, out_ch, module_name, postfix, stride=1):
    return [
        (f"{module_name}_{postfix}/dw_conv3x3",
         nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, groups=out_ch, bias=False)),
        (f"{module_name}_{postfix}/pw_conv1x1", nn.Conv2d(in_ch, out_ch, 1, bias=False)),
        (f"{module_name}_{postfix}/pw_norm", nn.BatchNorm2d(out_ch)),
        (f"{module_name}_{postfix}/pw_relu", nn.ReLU(inplace=True)),
    ]


class Hsigmoid(nn.Module):
    def forward(self, x):
        return F.relu6(x + 3.0) / 6.0


class eSEModule(nn.Module):
    def __init__(self, channel):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(channel, channel, kernel_size=1, padding=0)
        self.hsigmoid = Hsigmoid()

    def forward(self, x):
        return x * self.hsigmoid(self.fc(self.avg_pool(x)))


class OSAModule(nn.Module):
    def __init__(self, in_ch, stage_ch, concat_ch, layer_per_block, module_name, identity=False, depthwise=False):
        super().__init__()
        self.identity = identity
        self.depthwise = depthwise
        self.isReduced = False
        self.layers = nn.ModuleList()
        in_channel = in_ch
        if depthwise and in_channel != stage_ch:
            self.isReduced = True
            self.conv_reduction = nn.Sequential(OrderedDict(conv1x1(in_channel, stage_ch, f"{module_name}_reduction", "0")))
        for i in range(layer_per_block):
            if depthwise:
                self.layers.append(nn.Sequential(OrderedDict(dw_conv3x3(stage_ch, stage_ch, module_name, i))))
            else:
                self.layers.append(nn.Sequential(OrderedDict(conv3x3(in_channel, stage_ch, module_name, i))))
            in_channel = stage_ch
        in_channel = in_ch + layer_per_block * stage_ch
        self.concat = nn.Sequential(OrderedDict(conv1x1(in_channel, concat_ch, module_name, "concat")))
        self.ese = eSEModule(concat_ch)

    def forward(self, x):
        identity_feat = x
        output = [x]
        if self.depthwise and self.isReduced:
            x = self.conv_reduction(x)
        for layer in self.layers:
            x = layer(x)
            output.append(x)
        xt = self.ese(self.concat(torch.cat(output, dim=1)))
        if self.identity:
            xt = xt + identity_feat
        return xt


class OSAStage(nn.Sequential):
    def __init__(self, in_ch, stage_ch, concat_ch, block_per_stage, layer_per_block, stage_num, depthwise=False):
        super().__init__()
        if stage_num != 2:
            self.add_module("Pooling", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True))
        module_name = f"OSA{stage_num}_1"
        self.add_module(module_name, OSAModule(in_ch, stage_ch, concat_ch, layer_per_block, module_name, depthwise=depthwise))
        for i in range(block_per_stage - 1):
            module_name = f"OSA{stage_num}_{i + 2}"
            self.add_module(module_name, OSAModule(concat_ch, stage_ch, concat_ch, layer_per_block, module_name,
                                                   identity=True, depthwise=depthwise))


VOVNET_SPECS = {
    "V-99-eSE": dict(stem=[64, 64, 128], stage_conv_ch=[128, 160, 192, 224], stage_out_ch=[256, 512, 768, 1024],
                     layer_per_block=5, block_per_stage=[1, 3, 9, 3], dw=False),
}


class VoVNetCP(nn.Module):
    def __init__(self, spec, input_ch=3, out_features=("stage4", "stage5")):
        super().__init__()
        self._out_features = out_features
        stem_ch = spec["stem"]
        conv_type = dw_conv3x3 if spec["dw"] else conv3x3
        stem = conv3x3(input_ch, stem_ch[0], "stem", "1", 2)
        stem += conv_type(stem_ch[0], stem_ch[1], "stem", "2", 1)
        stem += conv_type(stem_ch[1], stem_ch[2], "stem", "3", 2)
        self.add_module("stem", nn.Sequential(OrderedDict(stem)))
        in_ch_list = [stem_ch[2]] + spec["stage_out_ch"][:-1]
        self.stage_names = []
        for i in range(4):
            name = f"stage{i + 2}"
            self.stage_names.append(name)
            self.add_module(name, OSAStage(in_ch_list[i], spec["stage_conv_ch"][i], spec["stage_out_ch"][i],
                                           spec["block_per_stage"][i], spec["layer_per_block"], i + 2, spec["dw"]))

    def forward(self, x):
        outputs = []
        x = self.stem(x)
        if "stem" in self._out_features:
            outputs.append(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
            if name in self._out_features:
                outputs.append(x)
        return outputs


# ----------------------------------------------------------------------------
# PETR CPFPN (projects/mmdet3d_plugin/models/necks/cp_fpn.py): ConvModule without norm/act = conv with bias


class ConvModule(nn.Module):
    def __init__(self, in_ch, out_ch, k, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, k, padding=padding, bias=True)

    def forward(self, x):
        return self.conv(x)


class CPFPN(nn.Module):
    def __init__(self, in_channels, out_channels, num_outs):
        super().__init__()
        self.num_outs = num_outs
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(len(in_channels)):
            self.lateral_convs.append(ConvModule(in_channels[i], out_channels, 1))
            if i == 0:
                self.fpn_convs.append(ConvModule(out_channels, out_channels, 3, padding=1))

    def forward(self, inputs):
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(laterals[i], size=laterals[i - 1].shape[2:], mode="nearest")
        outs = [self.fpn_convs[i](laterals[i]) if i == 0 else laterals[i] for i in range(len(laterals))]
        for _ in range(self.num_outs - len(outs)):
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)


# ----------------------------------------------------------------------------
# ViT feature backbone (timm), tokens after the final norm as [N, D, h, w]


class ViTFeatures(nn.Module):
    def __init__(self, cfg, image_size):
        super().__init__()
        from timm.models.vision_transformer import VisionTransformer
        self.vit = VisionTransformer(
            img_size=tuple(image_size), patch_size=cfg["patch_size"], embed_dim=cfg["embed_dim"], depth=cfg["depth"],
            num_heads=cfg["num_heads"], mlp_ratio=cfg["mlp_hidden_dim"] / cfg["embed_dim"], qkv_bias=cfg["qkv_bias"],
            class_token=False, global_pool="", num_classes=0)
        self.grid = (image_size[0] // cfg["patch_size"], image_size[1] // cfg["patch_size"])

    def state_dict_official(self):
        return {k: v for k, v in self.vit.state_dict().items()}

    def forward(self, x):
        tokens = self.vit.forward_features(x)  # [N, h*w, D] after the final norm
        n, t, d = tokens.shape
        return [tokens.transpose(1, 2).reshape(n, d, *self.grid)]


# ----------------------------------------------------------------------------
# Vision Mamba feature backbone: tools/vim_reference.py (the official forward), patch tokens as [N, D, h, w]


class VimFeatures(nn.Module):
    """Holds the official Vim tensors under their names; the forward is vim_reference's."""

    def __init__(self, cfg, image_size):
        super().__init__()
        import vim_reference
        self.reference = vim_reference
        self.cfg = vim_reference.make_config(
            cfg["embed_dim"], depth=cfg["depth"], patch_size=cfg["patch_size"], stride=cfg["stride"],
            image_size=image_size, d_state=cfg["d_state"], d_conv=cfg["d_conv"], expand=cfg["expand"],
            dt_rank=cfg["dt_rank"], num_classes=0, norm_eps=cfg["norm_eps"], middle_cls_token=cfg["middle_cls_token"],
            divide_out=cfg["divide_out"])
        self.weights = {}

    def randomize(self, gen):
        seed = int(torch.randint(0, 2 ** 31, (1,), generator=gen))
        self.weights = self.reference.random_weights(self.cfg, seed=seed)

    def state_dict_official(self):
        return dict(self.weights)

    def load_official(self, state):
        self.weights = dict(state)

    def forward(self, x):
        return [self.reference.patch_features(self.cfg, self.weights, x)]


# ----------------------------------------------------------------------------
# Cases


def build_backbone(cfg, image_size):
    kind = cfg["type"]
    if kind == "resnet":
        return ResNet(depth=cfg.get("depth"), block=cfg.get("block"), layers=cfg.get("layers"),
                      stem_channels=cfg.get("stem_channels", cfg.get("base_channels", 64)),
                      base_channels=cfg.get("base_channels", 64), out_indices=tuple(cfg.get("out_indices", [3])),
                      style=cfg.get("style", "pytorch"), stage_with_dcn=cfg.get("stage_with_dcn"),
                      deform_groups=cfg.get("deform_groups", 1))
    if kind == "vovnet":
        if cfg["spec"] == "custom":
            spec = dict(stem=cfg["stem_channels"], stage_conv_ch=cfg["stage_conv_channels"],
                        stage_out_ch=cfg["stage_out_channels"], layer_per_block=cfg["layers_per_block"],
                        block_per_stage=cfg["blocks_per_stage"], dw=cfg.get("depthwise", False))
        else:
            spec = VOVNET_SPECS[cfg["spec"]]
        return VoVNetCP(spec, out_features=tuple(cfg["out_features"]))
    if kind == "vit":
        return ViTFeatures(cfg, image_size)
    if kind == "vim":
        return VimFeatures(cfg, image_size)
    raise ValueError(kind)


CASES = {
    "resnet_basic_cpfpn": (
        "custom basic-block ResNet (layers [1,1,1,1], stem 8, base 4), out_indices [2,3] + CPFPN [16,32]->16; "
        "input 1x3x64x96",
        dict(type="resnet", block="basic", layers=[1, 1, 1, 1], stem_channels=8, base_channels=4, out_indices=[2, 3]),
        dict(type="cpfpn", in_channels=[16, 32], out_channels=16, num_outs=2), [1, 3, 64, 96]),
    "resnet50_reduced": (
        "ResNet-50 structure (bottlenecks, pytorch style) reduced to layers [2,1,2,1], stem 8, base 4, "
        "out_indices [3], no neck; odd input 1x3x70x90",
        dict(type="resnet", block="bottleneck", layers=[2, 1, 2, 1], stem_channels=8, base_channels=4, out_indices=[3]),
        None, [1, 3, 70, 90]),
    "resnet_caffe_dcn_cpfpn": (
        "PETR r50dcn-p4 layout at reduced size: bottleneck ResNet, caffe style (stride on conv1), DCNv2 "
        "(conv2.conv_offset, mask) in stages 3 and 4, layers [1,1,2,1], base 4, out_indices [2,3] + CPFPN "
        "[64,128]->16; input 1x3x80x80",
        dict(type="resnet", block="bottleneck", layers=[1, 1, 2, 1], stem_channels=8, base_channels=4,
             out_indices=[2, 3], style="caffe", stage_with_dcn=[False, False, True, True]),
        dict(type="cpfpn", in_channels=[64, 128], out_channels=16, num_outs=2), [1, 3, 80, 80]),
    "vovnet_reduced_cpfpn": (
        "VoVNetCP with the V-99-eSE structure at reduced width/depth (stem [8,8,16], 5 layers per OSA block, "
        "blocks [1,2,3,2], identity modules, eSE, ceil-mode pools on an 18-row map) + CPFPN "
        "[24,32]->16 on stage4/stage5; input 2x3x72x44",
        dict(type="vovnet", spec="custom", out_features=["stage4", "stage5"], stem_channels=[8, 8, 16],
             stage_conv_channels=[8, 8, 8, 12], stage_out_channels=[16, 16, 24, 32], layers_per_block=5,
             blocks_per_stage=[1, 2, 3, 2]),
        dict(type="cpfpn", in_channels=[24, 32], out_channels=16, num_outs=2), [2, 3, 72, 44]),
    "vovnet_dw": (
        "depthwise VoVNet (V-19-slim-dw layout at reduced width: dw_conv3x3 + pw_conv1x1, conv_reduction), "
        "out_features [stem, stage3, stage5] + CPFPN with 3 levels; input 1x3x50x66",
        dict(type="vovnet", spec="custom", out_features=["stem", "stage3", "stage5"], stem_channels=[8, 8, 8],
             stage_conv_channels=[8, 8, 12, 12], stage_out_channels=[12, 16, 20, 24], layers_per_block=3,
             blocks_per_stage=[1, 1, 2, 1], depthwise=True),
        dict(type="cpfpn", in_channels=[8, 16, 24], out_channels=8, num_outs=3), [1, 3, 50, 66]),
    "vit_features": (
        "timm ViT feature backbone (patch 8, embed 32, depth 2, 2 heads, mlp 64, no class token, pos_embed for "
        "the 4x6 grid, final norm) + single-level CPFPN [32]->16; input 2x3x32x48",
        dict(type="vit", patch_size=8, embed_dim=32, depth=2, num_heads=2, mlp_hidden_dim=64, qkv_bias=True,
             layer_norm_eps=1e-6, act="gelu"),
        dict(type="cpfpn", in_channels=[32], out_channels=16, num_outs=1), [2, 3, 32, 48]),
    "vim_features": (
        "Vision Mamba feature backbone (hustvl/Vim bimamba v2 as tools/vim_reference.py computes it: patch 8, "
        "overlapping stride 4, embed 32, depth 2, d_state 16, dt_rank 2, middle class token dropped at the output, "
        "pos_embed for the 7x11 grid + 1) + single-level CPFPN [32]->16; input 2x3x32x48",
        dict(type="vim", patch_size=8, stride=4, in_chans=3, embed_dim=32, depth=2, d_state=16, d_conv=4, expand=2,
             dt_rank=2, norm_eps=1e-5, bimamba_type="v2", middle_cls_token=True, divide_out=True),
        dict(type="cpfpn", in_channels=[32], out_channels=16, num_outs=1), [2, 3, 32, 48]),
}


def randomize(module: nn.Module, gen: torch.Generator) -> None:
    """Fan-in scaled conv weights (activations stay O(1) through deep stacks), non-trivial BN
    affine parameters and running statistics, small biases; timm ViT parameters N(0, 0.2^2)
    with LayerNorm weights 1 + N(0, 0.2^2)."""
    with torch.no_grad():
        for name, m in module.named_modules():
            if isinstance(m, ModulatedDeformConv2dPack):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                if name.endswith("conv_offset"):  # offsets of about a pixel, masks spread over (0, 1)
                    m.weight.mul_(0.15)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
                m.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=gen))
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + torch.randn(m.weight.shape, generator=gen) * 0.2)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.2)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
        for name, p in module.named_parameters(recurse=True):
            if name.endswith("pos_embed"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)


def official_state(module: nn.Module) -> dict:
    if isinstance(module, (ViTFeatures, VimFeatures)):
        return module.state_dict_official()
    return module.state_dict()


def make_case(name, description, backbone_cfg, neck_cfg, input_shape, out_dir, seed):
    gen = torch.Generator().manual_seed(seed)
    backbone = build_backbone(backbone_cfg, input_shape[2:]).eval()
    if isinstance(backbone, VimFeatures):
        backbone.randomize(gen)
    else:
        randomize(backbone, gen)
    neck = None
    if neck_cfg is not None:
        neck = CPFPN(neck_cfg["in_channels"], neck_cfg["out_channels"], neck_cfg["num_outs"]).eval()
        randomize(neck, gen)
    images = torch.randn(input_shape, generator=gen)

    tensors = {f"img_backbone.{k}": v for k, v in official_state(backbone).items()}
    if neck is not None:
        tensors.update({f"img_neck.{k}": v for k, v in neck.state_dict().items()})
    tensors = {k: v.detach().clone().contiguous() for k, v in tensors.items()}

    def run(dtype):
        b = build_backbone(backbone_cfg, input_shape[2:]).eval().to(dtype)
        b_state = {k[len("img_backbone."):]: v.to(dtype) if v.is_floating_point() else v
                   for k, v in tensors.items() if k.startswith("img_backbone.")}
        if isinstance(b, ViTFeatures):
            b.vit.load_state_dict(b_state, strict=True)
        elif isinstance(b, VimFeatures):
            b.load_official(b_state)
        else:
            b.load_state_dict(b_state, strict=True)
        with torch.no_grad():
            levels = b(images.to(dtype))
            features = levels[0]
            if neck_cfg is not None:
                n = CPFPN(neck_cfg["in_channels"], neck_cfg["out_channels"], neck_cfg["num_outs"]).eval().to(dtype)
                n.load_state_dict({k[len("img_neck."):]: v.to(dtype) for k, v in tensors.items()
                                   if k.startswith("img_neck.")}, strict=True)
                features = n(levels)[0]
        return levels, features

    levels64, features64 = run(torch.float64)
    levels32, features32 = run(torch.float32)
    err = (features32.double() - features64).abs().max().item() / features64.abs().max().item()
    assert err < 1e-4, f"{name}: float32 torch differs from float64 by {err}"
    expected = {f"backbone.{i}": level.float() for i, level in enumerate(levels64)}
    expected["features"] = features64.float()

    case_dir = os.path.join(out_dir, name)
    os.makedirs(case_dir, exist_ok=True)
    write_json(os.path.join(case_dir, "config.json"), {"backbone": backbone_cfg, "neck": neck_cfg})
    write_safetensors(os.path.join(case_dir, "weights.safetensors"), tensors)
    write_safetensors(os.path.join(case_dir, "inputs.safetensors"), {"images": images})
    write_safetensors(os.path.join(case_dir, "expected.safetensors"), expected)
    size = sum(os.path.getsize(os.path.join(case_dir, f)) for f in os.listdir(case_dir))
    shapes = ", ".join(f"{k} {list(v.shape)}" for k, v in expected.items())
    print(f"{name}: {shapes}; max|features| {features64.abs().max().item():.3g}; "
          f"fp32 torch rel err {err:.2e}; {size / 1024:.0f} KiB")
    return size, shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="Tests/Fixtures/backbones")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    rows = []
    for index, (name, (description, backbone_cfg, neck_cfg, input_shape)) in enumerate(CASES.items()):
        size, shapes = make_case(name, description, backbone_cfg, neck_cfg, input_shape, args.out, seed=100 + index)
        rows.append(f"| `{name}` | {description} | {size / 1024:.0f} KiB |")
    readme = """# Backbone and neck fixtures

Small random-weight image backbones and the CPFPN neck, with the official checkpoint
names (`img_backbone.*`: mmdet ResNet, PETR VoVNetCP, timm ViT, hustvl/Vim; `img_neck.*`: PETR CPFPN).
Generated by `tools/make_backbone_fixtures.py` (venv: see `tools/README.md`):

    /work/venv/bin/python tools/make_backbone_fixtures.py --out Tests/Fixtures/backbones

Each case directory holds `config.json` (`{"backbone": ..., "neck": ...}` as in a PETR
config.json), `weights.safetensors` (float32, batch-norm running statistics and
`num_batches_tracked` included), `inputs.safetensors` (`images`) and `expected.safetensors`
(`backbone.{k}` for every backbone output, `features` for the map the head uses). The torch
modules in the script are written from the official code; expected outputs come from them in
eval mode in float64 (from the stored float32 weights), rounded to float32. Conv weights are
N(0, 2/fan_in) (DCN `conv_offset` 0.15 times that: offsets of about a pixel), BN weights U(0.5, 1.5), biases N(0, 0.2^2), running means N(0, 0.3^2),
running variances U(0.5, 2). Deterministic.

| case | what it covers | size |
|------|----------------|------|
""" + "\n".join(rows) + "\n"
    write_text(os.path.join(args.out, "README.md"), readme)


if __name__ == "__main__":
    main()

"""Layers 0-6 of the pack's COCO YOLOv8n as plain torch modules, loaded with its weights.

Written out here (Ultralytics, AGPL-3.0, is not in the `[train]` venv and is not needed for seven
layers) for crop models that start from COCO features; scripts/eval/fire_verifier_trial.py uses it.
"""

import functools

import numpy as np
import torch
from torch import nn

from citywatch.perception.model_pack import ModelPack
from citywatch.training.yolo_finetune import COCO_MODEL, dequantized_weights


class _Conv(nn.Module):
    """YOLOv8's Conv (convolution, batch norm, SiLU) with the batch norm folded into the convolution,
    as the pack's ONNX model holds it."""

    def __init__(self, weights: dict[str, np.ndarray], name: str, stride: int = 1) -> None:
        super().__init__()
        weight = torch.from_numpy(weights[f"{name}.conv.weight"])
        out_channels, in_channels, kernel = weight.shape[:3]
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(torch.from_numpy(weights[f"{name}.conv.bias"]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.silu(self.conv(x))


class _C2f(nn.Module):
    """YOLOv8's C2f block (split, `n` residual bottlenecks, concatenate, fuse)."""

    def __init__(self, weights: dict[str, np.ndarray], name: str, n: int) -> None:
        super().__init__()
        self.cv1, self.cv2 = _Conv(weights, f"{name}.cv1"), _Conv(weights, f"{name}.cv2")
        self.m = nn.ModuleList(
            nn.Sequential(_Conv(weights, f"{name}.m.{i}.cv1"), _Conv(weights, f"{name}.m.{i}.cv2"))
            for i in range(n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = list(self.cv1(x).chunk(2, 1))
        for bottleneck in self.m:
            parts.append(parts[-1] + bottleneck(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


@functools.cache
def coco_stem_weights() -> dict[str, np.ndarray]:
    """The float weights of the pack's COCO YOLOv8n (dequantized, batch norms fused)."""
    return dequantized_weights(ModelPack.open().verified_path(COCO_MODEL))


def coco_stem() -> nn.Sequential:
    """Layers 0-6 of the pack's COCO YOLOv8n with its weights: stride 16, 128 channels out."""
    weights = coco_stem_weights()
    return nn.Sequential(
        _Conv(weights, "model.0", 2), _Conv(weights, "model.1", 2), _C2f(weights, "model.2", 1),
        _Conv(weights, "model.3", 2), _C2f(weights, "model.4", 2),
        _Conv(weights, "model.5", 2), _C2f(weights, "model.6", 2),
    )  # fmt: skip

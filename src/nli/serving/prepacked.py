"""``predict --stream`` on a bf16 CPU: linear weights prepacked into oneDNN's layout once.

It leaves every number unchanged (tested); see docs/internals.md for the private ops this calls.
"""

from __future__ import annotations

from contextlib import contextmanager
from types import MethodType

import torch

from nli.model.cpu import has_bf16


def _packed_forward(self, x: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, self._packed_weight, self.bias, "none", [], "")


def _can_prepack(model: torch.nn.Module) -> bool:
    ops = torch.ops.mkldnn
    return (
        torch.backends.mkldnn.is_available()
        and has_bf16()
        and hasattr(ops, "_reorder_linear_weight")
        and hasattr(ops, "_linear_pointwise")
        and not getattr(model, "_prepacked", False)
    )


@contextmanager
def prepacked(model: torch.nn.Module):
    """Inference (no autograd) with the bf16 linear weights reordered once into oneDNN's blocked layout.

    On a bf16 CPU, ``F.linear`` already runs oneDNN's matmul but reorders the weight on every call: a third
    of a single-pair forward. For one pair at a time (``predict --stream``) the prepacked kernel gives
    bit-identical outputs (tested); for batches of 32 it differs in the last bits and is no faster, so the
    evaluate stages don't use it. It is undone on exit: weights changed later are never stale."""
    layers, applied = [], _can_prepack(model)
    if applied:
        for layer in model.modules():
            w = getattr(layer, "weight", None)
            if type(layer) is torch.nn.Linear and w.device.type == "cpu" and w.dtype == torch.bfloat16:
                layer._packed_weight = torch.ops.mkldnn._reorder_linear_weight(w.detach(), None)
                layer.forward = MethodType(_packed_forward, layer)
                layers.append(layer)
        model._prepacked = True
    try:
        yield model
    finally:
        for layer in layers:
            del layer.forward, layer._packed_weight
        if applied:
            model._prepacked = False

"""``predict --stream`` on a bf16 CPU: linear weights prepacked into oneDNN's layout once, and a lean LoRA forward.

Both leave every number unchanged (tested); see docs/internals.md for the private APIs this touches.
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


def _lean_lora_forward(self, x: torch.Tensor) -> torch.Tensor:
    """PEFT's LoRA ``Linear.forward`` for one plain adapter, the same ops in the same order, without its
    per-call argument checks and dictionary lookups (~40 us a layer, 210 layers a pass for SmolLM2)."""
    result = self.base_layer(x)
    a, b = self._lean_ab
    x = x if x.dtype == a.weight.dtype else x.to(a.weight.dtype)
    return (result + b(a(self._lean_dropout(x))) * self._lean_scaling).to(result.dtype)


def _plain_lora_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """PEFT LoRA Linear layers with exactly one active, unmerged, plain (no variant) adapter."""
    layers = []
    for m in model.modules():
        if type(m).__name__ != "Linear" or not hasattr(m, "lora_A"):
            continue
        names = list(m.active_adapters)
        if len(names) != 1 or names[0] not in m.lora_A:
            continue
        if m.merged or m.disable_adapters or m.lora_variant or getattr(m, "use_dora", {}).get(names[0]):
            continue
        m._lean_ab = (m.lora_A[names[0]], m.lora_B[names[0]])
        m._lean_dropout, m._lean_scaling = m.lora_dropout[names[0]], m.scaling[names[0]]
        layers.append(m)
    return layers


@contextmanager
def prepacked(model: torch.nn.Module):
    """Inference (no autograd) with the bf16 linear weights reordered once into oneDNN's blocked layout.

    On a bf16 CPU, ``F.linear`` already runs oneDNN's matmul but reorders the weight on every call: a third
    of a single-pair forward. For one pair at a time (``predict --stream``) the prepacked kernel gives
    bit-identical outputs (tested); for batches of 32 it differs in the last bits and is no faster, so the
    evaluate stages don't use it. PEFT's LoRA layers run a lean copy of their forward (same ops, same order). All
    of it is undone on exit: weights changed later are never stale."""
    layers, lora, applied = [], [], _can_prepack(model)
    if applied:
        for layer in model.modules():
            w = getattr(layer, "weight", None)
            if type(layer) is torch.nn.Linear and w.device.type == "cpu" and w.dtype == torch.bfloat16:
                layer._packed_weight = torch.ops.mkldnn._reorder_linear_weight(w.detach(), None)
                layer.forward = MethodType(_packed_forward, layer)
                layers.append(layer)
        lora = [] if model.training else _plain_lora_layers(model)
        for layer in lora:
            layer.forward = MethodType(_lean_lora_forward, layer)
        model._prepacked = True
    try:
        yield model
    finally:
        for layer in layers:
            del layer.forward, layer._packed_weight
        for layer in lora:
            del layer.forward, layer._lean_ab, layer._lean_dropout, layer._lean_scaling
        if applied:
            model._prepacked = False

"""CPU inference speed-ups that leave every number unchanged (measured on 2 cores, bench/predict_bench.py)."""

from __future__ import annotations

from contextlib import contextmanager
from types import MethodType

import torch


def has_bf16() -> bool:
    """bf16 matrix units (AVX512-BF16 or AMX): bf16 matmuls then run several times faster than fp32."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def matrix_input_for_head(head: torch.nn.Module) -> None:
    """The answer-position slice ``hidden[:, -1:, :]`` is a strided view; with a frozen weight, ``F.linear`` on
    a 3-D input may take a batched-matmul path that first copies the weight once per row (32 x 49152 x 576
    values: 1.8 GB and 2.5 s per batch on this CPU; 83 ms for a single row). A 2-D input always takes one mm."""
    head.register_forward_pre_hook(_as_matrix)
    head.register_forward_hook(_restore_shape)


def _as_matrix(module, args):
    module._rows_shape = args[0].shape[:-1]
    return (args[0].reshape(-1, args[0].shape[-1]), *args[1:])


def _restore_shape(module, args, out):
    return out.reshape(*module._rows_shape, out.shape[-1])


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
    evaluate stages don't use it. The packed copies are dropped on exit: weights changed later are never stale."""
    layers = []
    if _can_prepack(model):
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
        if layers:
            model._prepacked = False

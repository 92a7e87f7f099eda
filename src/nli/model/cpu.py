"""CPU inference speed-ups that leave every number unchanged (measured on 2 cores, bench/predict_bench.py)."""

from __future__ import annotations

import torch


def has_bf16() -> bool:
    """bf16 matrix units (AVX512-BF16 or AMX): bf16 matmuls then run several times faster than fp32."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def matrix_input_for_head(head: torch.nn.Module) -> None:
    """The answer-position slice ``hidden[:, -1:, :]`` is a strided view; with a frozen weight, ``F.linear`` on
    a 3-D input may take a batched-matmul path that first copies the whole weight once per row (measured in
    docs/performance.md). A 2-D input always takes one mm."""
    head.register_forward_pre_hook(_as_matrix)
    head.register_forward_hook(_restore_shape)


def _as_matrix(module, args):
    module._rows_shape = args[0].shape[:-1]
    return (args[0].reshape(-1, args[0].shape[-1]), *args[1:])


def _restore_shape(module, args, out):
    return out.reshape(*module._rows_shape, out.shape[-1])

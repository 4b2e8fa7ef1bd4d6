"""Stub for the compiled Winograd 3x3 convolution core (msparam/_core/_winograd.pyx)."""
from typing import Optional

import numpy as np
import numpy.typing as npt

__all__ = ["ALGORITHMS", "MIN_CHANNELS", "SHARINGS", "WinogradConv", "winograd_for"]

ALGORITHMS: tuple[str, ...]
MIN_CHANNELS: dict[int, int]
SHARINGS: tuple[str, ...]

class WinogradConv:
    weight_shape: tuple[int, int, int, int]
    def __init__(self, weight_shape: tuple[int, int, int, int], isa: int, tile_size: Optional[int] = ...) -> None: ...
    def tile_size(self, input_shape: tuple[int, ...], padding: tuple[int, int, int, int]) -> int: ...
    def sharing(self, input_shape: tuple[int, ...], padding: tuple[int, int, int, int], nthreads: int) -> str: ...
    def __call__(
        self,
        x: npt.NDArray[np.float32],
        weight: npt.NDArray[np.float32],
        bias: Optional[npt.NDArray[np.float32]],
        out: npt.NDArray[np.float32],
        padding: tuple[int, int, int, int],
        nthreads: int,
    ) -> bool: ...

def winograd_for(
    weight_shape: tuple[int, int, int, int],
    dtype: npt.DTypeLike,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    group: int,
    isa: int,
    algorithm: Optional[str],
) -> Optional[WinogradConv]: ...

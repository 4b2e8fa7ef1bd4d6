"""Stub for the compiled Conv2d forward core (msparam/_core/_conv.pyx)."""
from typing import Optional

import numpy as np
import numpy.typing as npt

__all__ = ["Conv2dPlan", "conv2d_forward", "available_isas"]

def available_isas() -> list[str]: ...

class Conv2dPlan:
    dtype: np.dtype
    weight_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]
    group: int
    path: str
    isa: str
    def __init__(
        self,
        weight_shape: tuple[int, int, int, int],
        dtype: npt.DTypeLike,
        stride: tuple[int, int],
        dilation: tuple[int, int],
        padding: tuple[int, int, int, int],
        group: int,
        isa: Optional[str] = ...,
        kernel: Optional[str] = ...,
        algorithm: Optional[str] = ...,
    ) -> None: ...
    def output_shape(self, input_shape: tuple[int, int, int, int]) -> tuple[int, int, int, int]: ...
    def pixel_blocking(self, h: int, w: int) -> tuple[int, bool, bool]: ...
    def path_for(self, input_shape: tuple[int, int, int, int]) -> str: ...
    def __call__(
        self,
        x: npt.NDArray[np.floating],
        weight: npt.NDArray[np.floating],
        bias: Optional[npt.NDArray[np.floating]],
        num_threads: int,
    ) -> npt.NDArray[np.floating]: ...

def conv2d_forward(
    x: npt.NDArray[np.floating],
    weight: npt.NDArray[np.floating],
    bias: Optional[npt.NDArray[np.floating]],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int, int, int],
    group: int,
    num_threads: int,
) -> npt.NDArray[np.floating]: ...

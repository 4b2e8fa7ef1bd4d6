"""Stub for the compiled Conv2d forward core (msparam/_core/_conv.pyx); the planning that calls it
is msparam/_core/conv_plan.py."""
from typing import Optional

import numpy as np
import numpy.typing as npt

__all__ = ["ConvKernels", "ConvGeometry", "same_bytes"]

class ConvGeometry:
    koff: npt.NDArray[np.intp]
    tail_koff: npt.NDArray[np.intp]
    def __init__(self, fields: dict[str, int], koff: npt.NDArray[np.intp],
                 tail_koff: npt.NDArray[np.intp]) -> None: ...

class ConvKernels:
    mr: tuple[int, int]
    nr: tuple[int, int]
    def __init__(self, isa: int, is_double: bool) -> None: ...
    def pack(self, weight: npt.NDArray[np.floating], group: int,
             channel_vectors: bool) -> npt.NDArray[np.floating]: ...
    def dense(self, x: npt.NDArray[np.floating], out: npt.NDArray[np.floating],
              panels: npt.NDArray[np.floating], bias: Optional[npt.NDArray[np.floating]],
              geometry: ConvGeometry) -> None: ...
    def depthwise(self, x: npt.NDArray[np.floating], out: npt.NDArray[np.floating],
                  weight: npt.NDArray[np.floating], bias: Optional[npt.NDArray[np.floating]],
                  geometry: ConvGeometry, in_place: bool) -> None: ...

def same_bytes(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic], nthreads: int) -> bool: ...

"""Stub for the compiled Dense forward core (msparam/_core/_linear.pyx)."""
from typing import Optional

import numpy as np
import numpy.typing as npt

__all__ = ["LinearKernels", "dense_forward"]

class LinearKernels:
    mr: tuple[int, int]
    nr: tuple[int, int]
    panel_mr: tuple[int, int]
    panel_nr: tuple[int, int]
    def __init__(self, isa: int) -> None: ...
    def threads_for(self, rows: int, features: int, inputs: int, itemsize: int, num_threads: int) -> int: ...
    def forward(self, x: npt.NDArray[np.floating], weight: npt.NDArray[np.floating],
                bias: Optional[npt.NDArray[np.floating]], num_threads: int,
                panels: Optional[bool] = None) -> npt.NDArray[np.floating]: ...

def dense_forward(x: npt.NDArray[np.floating], weight: npt.NDArray[np.floating],
                  bias: Optional[npt.NDArray[np.floating]], num_threads: int) -> npt.NDArray[np.floating]: ...

"""Stub for the compiled random fills (msparam/_core/_philox_fill.pyx)."""
from typing import Optional

import numpy as np
import numpy.typing as npt

__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal", "values_from_bits",
           "stream_numbers", "available_isas", "normal_part_errors", "truncated_normal_erf_inv_error", "NORMAL_TOLERANCE",
           "TRUNCNORM_TOLERANCE", "NORMAL_PART_ERROR", "TRUNCNORM_ERF_INV_ERROR", "CHUNK"]

NORMAL_TOLERANCE: float
TRUNCNORM_TOLERANCE: float
NORMAL_PART_ERROR: float
TRUNCNORM_ERF_INV_ERROR: float
CHUNK: int

def available_isas() -> list[str]: ...
def fill_uniform(
    seed: int, out: npt.NDArray[np.float32], a: float, b: float, num_threads: int,
    isa: Optional[str] = ..., start: int = ...,
    starts: Optional[npt.NDArray[np.int64]] = ...,
) -> None: ...
def fill_normal(
    seed: int, out: npt.NDArray[np.float32], mean: float, sigma: float, num_threads: int,
    isa: Optional[str] = ..., start: int = ...,
    starts: Optional[npt.NDArray[np.int64]] = ...,
) -> None: ...
def fill_truncated_normal(
    seed: int, out: npt.NDArray[np.float32], mean: float, sigma: float, a: float, b: float,
    num_threads: int, isa: Optional[str] = ..., start: int = ...,
    starts: Optional[npt.NDArray[np.int64]] = ...,
) -> None: ...
def stream_numbers(
    seed: int, out: npt.NDArray[np.uint32], isa: Optional[str] = ..., start: int = ...,
) -> None: ...
def values_from_bits(
    kind: str, bits: npt.NDArray[np.uint32], out: npt.NDArray[np.float32],
    params: tuple[float, ...], isa: Optional[str] = ...,
) -> None: ...
def normal_part_errors(isa: str) -> tuple[float, float]: ...
def truncated_normal_erf_inv_error(
    isa: str, q: npt.NDArray[np.float64],
) -> tuple[float, int]: ...

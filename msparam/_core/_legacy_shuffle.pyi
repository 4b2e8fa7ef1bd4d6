"""Type stub for the compiled module msparam._core._legacy_shuffle."""
import numpy as np

def zero_permuted_rows(bit_generator: np.random.BitGenerator, rows: int, cols: int, zeros_per_column: int,
                       values: np.ndarray | None = ...) -> None: ...

"""Type stub for the compiled module msparam.train._ckpt_scan."""
import numpy as np

def plain_records(window: bytes, base: int, pos: int, end: int, max_ndim: int,
                  types: dict[bytes, tuple[np.dtype, str]], previous_tag: str | None, excluded_tag: str,
                  ) -> tuple[list[tuple[int, str, tuple[int, ...], np.dtype, str, int, int]], int]: ...
def fill_from(destination: object, window: bytes, offset: int) -> None: ...

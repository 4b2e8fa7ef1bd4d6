"""Type stub for the compiled module msparam.train._ckpt_scan."""
from typing import Any, Callable

import numpy as np
from typing_extensions import Buffer

def plain_entries(window: Buffer, base: int, pos: int, end: int, max_ndim: int,
                  types: dict[bytes, tuple[np.dtype[Any], str]], previous_tag: str | None, excluded_tag: str,
                  wanted: Callable[[str], bool] | None,
                  allocate: Callable[[tuple[int, ...], np.dtype[Any]], Any] | None,
                  describe: bool) -> tuple[list[tuple[Any, ...]], tuple[int, str, tuple[int, ...], str, int] | None,
                                           int]: ...

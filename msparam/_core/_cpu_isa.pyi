"""Stub for the SIMD path names (msparam/_core/_cpu_isa.pyx)."""
from typing import Optional

__all__ = ["available_isas", "isa_index"]

def available_isas() -> list[str]: ...
def isa_index(isa: Optional[str], prefix: str = ...) -> int: ...

"""The SIMD paths of msparam's compiled kernels (cpu_isa.h), named once for every module.

The widest path this CPU runs is read once, at import, capped by the environment variable
``MSPARAM_CPU_ISA`` (``base``, ``avx2`` or ``avx512``, any case); the random fills and the
Conv2d kernels offer the same paths under the same names.
"""

cdef extern from "cpu_isa.h" nogil:
    int MSP_ISA_COUNT
    const char *msp_isa_names[]
    int msp_cpu_isa()

__all__ = ["available_isas", "isa_index"]

_NAMES = tuple(msp_isa_names[i].decode() for i in range(MSP_ISA_COUNT))
_BEST = msp_cpu_isa()


def available_isas():
    """Names of the SIMD paths this CPU can run, narrowest first (always starts with 'base'),
    up to the cap set by the environment variable ``MSPARAM_CPU_ISA``, if any."""
    return list(_NAMES[:_BEST + 1])


def isa_index(isa, prefix=""):
    """The number (cpu_isa.h's MSP_ISA_*) of ``isa``, a name from :func:`available_isas`, or of
    the widest of them for None; a ValueError (its message after ``prefix``) for any other."""
    if isa is None:
        return _BEST
    names = available_isas()
    if isa not in names:
        raise ValueError(f"{prefix}'isa' must be one of {names}, but got {isa!r}.")
    return names.index(isa)

"""Build msparam's compiled cores: every ``msparam/**/_*.pyx`` becomes one extension module.

Flags are portable (no -march=native); CPU-specific fast paths are chosen at run time.
"""
import os
import sys
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
CORE = HERE / "msparam" / "_core"

if sys.platform == "win32":
    COMPILE_ARGS = ["/O2", "/openmp"]
    LINK_ARGS = []
else:
    COMPILE_ARGS = ["-O3", "-fopenmp", "-fno-math-errno", "-Wno-unreachable-code"]
    LINK_ARGS = ["-fopenmp"]

# Extra flags per module.  The random core reproduces MindSpore's unfused double arithmetic
# ((b - a) * u + a, mean + r * cos(theta)), so GCC must not contract it into FMAs.
MODULE_COMPILE_ARGS = {} if sys.platform == "win32" else {
    "msparam._core._philox_fill": ["-ffp-contract=off"],
}

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "embedsignature": True,
}


def extensions():
    exts = []
    for pyx in sorted((HERE / "msparam").rglob("_*.pyx")):
        rel = pyx.relative_to(HERE).with_suffix("")
        name = ".".join(rel.parts)
        exts.append(
            Extension(
                name,
                [str(rel) + ".pyx"],
                include_dirs=[numpy.get_include(), str(CORE.relative_to(HERE))],
                # the C kernels live in headers: a header change must rebuild its modules
                depends=[str(h.relative_to(HERE)) for h in sorted(CORE.glob("*.h"))],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=COMPILE_ARGS + MODULE_COMPILE_ARGS.get(name, []),
                extra_link_args=LINK_ARGS,
            )
        )
    return exts


os.chdir(HERE)
setup(
    ext_modules=cythonize(
        extensions(),
        compiler_directives=DIRECTIVES,
        nthreads=os.cpu_count() or 1,
    ),
)

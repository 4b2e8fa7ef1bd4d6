"""Build msparam's compiled cores: every ``msparam/**/_*.pyx`` becomes one extension module.

Flags are portable (no -march=native); CPU-specific fast paths are chosen at run time. GCC and
clang both build it, on Linux and other POSIX systems.

Environment switches (read at build time):

``MSPARAM_OPENMP``
    ``0`` builds without OpenMP (every kernel runs on one thread), ``1`` requires it, unset (or
    ``auto``) uses it when the compiler can build and link an OpenMP program.
``MSPARAM_SANITIZE``
    e.g. ``address,undefined``: builds with those sanitizers and debug info (CI's sanitizer job).
"""
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
CORE = HERE / "msparam" / "_core"

# Modules that need POSIX file calls (pread/pwrite); elsewhere their package uses its portable
# fallback and the module is not built.
POSIX_ONLY = {"_fileio"}

COMPILE_ARGS = ["-O3", "-fno-math-errno", "-Wno-unreachable-code"]
# Extra flags per module.  The random core reproduces MindSpore's unfused double arithmetic
# ((b - a) * u + a, mean + r * cos(theta), boost's Horner steps), so the compiler must not contract
# it into FMAs: this flag is the one mechanism that says so (no pragmas in the headers; the vector
# code fuses only where it asks to, with MSP_FMA).
MODULE_COMPILE_ARGS = {
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

# Without OpenMP, Cython runs prange and parallel blocks serially (they are guarded by _OPENMP),
# but a module that cimports Cython's ``openmp`` still includes <omp.h> and calls the runtime.
# A serial build puts this header first on the include path: a team is one thread.
SERIAL_OMP_H = """\
/* Written by msparam's setup.py for a build without OpenMP: the runtime calls of a one-thread team. */
#ifndef MSPARAM_SERIAL_OMP_H
#define MSPARAM_SERIAL_OMP_H
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_limit(void) { return 1; }
static inline void omp_set_num_threads(int n) { (void)n; }
#endif
"""

OPENMP_PROBE = """\
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+ : n)
    n += 1;
    return n > 0 ? 0 : 1;
}
"""


def compiler_command():
    """The C compiler setuptools will call (``CC`` overrides Python's own, as in setuptools)."""
    return shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")


def openmp_links():
    """Whether the compiler builds and links a program with ``-fopenmp`` (clang needs libomp)."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "probe.c"
        source.write_text(OPENMP_PROBE)
        try:
            result = subprocess.run(compiler_command() + ["-fopenmp", str(source), "-o", str(Path(scratch) / "probe")],
                                    capture_output=True, text=True)
        except OSError:
            return False
        return result.returncode == 0


def use_openmp():
    choice = os.environ.get("MSPARAM_OPENMP", "auto").strip().lower()
    if choice in ("0", "no", "off", "false"):
        return False
    found = openmp_links()
    if choice in ("1", "yes", "on", "true") and not found:
        sys.exit("msparam: MSPARAM_OPENMP=1 but the compiler cannot build an OpenMP program "
                 "(with clang, install libomp-dev).")
    if not found:
        print("msparam: no OpenMP found; building single-threaded kernels", file=sys.stderr)
    return found


def serial_omp_include():
    include = HERE / "build" / "serial-omp"
    include.mkdir(parents=True, exist_ok=True)
    (include / "omp.h").write_text(SERIAL_OMP_H)
    return str(include.relative_to(HERE))


def build_flags(openmp):
    """Compile and link flags for every module."""
    compile_args, link_args = list(COMPILE_ARGS), []
    if openmp:
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")
    sanitizers = os.environ.get("MSPARAM_SANITIZE", "").strip()
    if sanitizers:
        compile_args += [f"-fsanitize={sanitizers}", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all", "-g"]
        link_args.append(f"-fsanitize={sanitizers}")
    else:
        # Python's own CFLAGS carry -g: wheels ship without debug info (a later -g0 wins).
        compile_args.append("-g0")
        if sys.platform.startswith("linux"):
            link_args.append("-Wl,--strip-debug")
    return compile_args, link_args


def module_sources():
    """(module name, .pyx path relative to the tree) of every module to compile here."""
    modules = []
    for pyx in sorted((HERE / "msparam").rglob("_*.pyx")):
        if pyx.stem in POSIX_ONLY and os.name != "posix":
            continue
        rel = pyx.relative_to(HERE)
        modules.append((".".join(rel.with_suffix("").parts), str(rel)))
    if not modules:
        # An sdist without its .pyx files once built a pure-Python wheel that could not be imported.
        sys.exit(f"msparam: no msparam/**/_*.pyx found under {HERE}: nothing to compile; "
                 "the source tree or sdist is incomplete.")
    return modules


def extensions(modules):
    import numpy
    from setuptools import Extension

    openmp = use_openmp()
    compile_args, link_args = build_flags(openmp)
    include_dirs = [numpy.get_include(), str(CORE.relative_to(HERE))]
    if not openmp:
        include_dirs.insert(0, serial_omp_include())
    return [
        Extension(
            name,
            [source],
            include_dirs=include_dirs,
            # the C kernels live in headers: a header change must rebuild its modules
            depends=[str(h.relative_to(HERE)) for h in sorted(CORE.glob("*.h"))],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=compile_args + MODULE_COMPILE_ARGS.get(name, []),
            extra_link_args=link_args,
        )
        for name, source in modules
    ]


def main():
    os.chdir(HERE)
    modules = module_sources()  # first: an incomplete tree fails before anything else is needed
    from Cython.Build import cythonize
    from setuptools import setup

    setup(
        ext_modules=cythonize(
            extensions(modules),
            compiler_directives=DIRECTIVES,
            nthreads=os.cpu_count() or 1,
        ),
    )


main()

"""Check what msparam's distributions hold: ``python .ci/check_dist.py [--bundled-openmp] FILE...``.

An sdist holds every build input (each compiled module's .pyx, the .pxd and .h files, the
generated tables, LICENSE, README, setup.py, pyproject.toml) and nothing generated that can go
stale (Cython's C, compiled modules, bytecode). A wheel holds no C sources, and its compiled
modules carry no debug info. ``--bundled-openmp``: the wheel has a manylinux tag and carries its
OpenMP runtime. Exits 1 listing every problem found.
"""
import io
import re
import sys
import tarfile
import zipfile

GENERATED = re.compile(r"\.(c|cpp|so|pyd|o|pyc)$|__pycache__/")
SDIST_NEEDS = ("LICENSE", "README.md", "CHANGELOG.md", "setup.py", "pyproject.toml", "MANIFEST.in",
               "msparam/_generated/dtypes.pxd", "msparam/_generated/dtype_table.py",
               "msparam/_generated/dtype_names.py", "msparam/py.typed",
               "codegen/generate.py")


def sdist_problems(names):
    """Problems of an sdist, given its member names without the top folder."""
    problems = [f"missing {need}" for need in SDIST_NEEDS if need not in names]
    pyx = [name for name in names if name.endswith(".pyx")]
    if not pyx:
        problems.append("no .pyx file: a build from it would compile nothing")
    if not any(name.startswith("msparam/_core/") and name.endswith(".h") for name in names):
        problems.append("no C header of msparam/_core")
    problems += [f"generated file {name}" for name in names if GENERATED.search(name)]
    return problems


def elf_debug_sections(data):
    """Names of the debug sections of an ELF file given as bytes."""
    from elftools.elf.elffile import ELFFile  # pyelftools, which auditwheel brings

    return [section.name for section in ELFFile(io.BytesIO(data)).iter_sections()
            if section.name.startswith((".debug", ".zdebug"))]


def wheel_problems(archive, name, bundled_openmp=False):
    names = archive.namelist()
    problems = [f"C source {member}" for member in names if re.search(r"\.(c|cpp)$", member)]
    modules = [member for member in names if member.endswith(".so") and member.startswith("msparam/")]
    if not modules:
        problems.append("no compiled module")
    for module in modules:
        debug = elf_debug_sections(archive.read(module))
        if debug:
            problems.append(f"{module} carries debug info: {', '.join(debug)}")
    metadata = next((archive.read(member).decode() for member in names if member.endswith(".dist-info/METADATA")), "")
    if "License-Expression: Apache-2.0" not in metadata:
        problems.append("METADATA has no 'License-Expression: Apache-2.0'")
    if not any(member.endswith(".dist-info/licenses/LICENSE") for member in names):
        problems.append("no LICENSE in the wheel")
    if bundled_openmp:
        if "manylinux" not in name:
            problems.append(f"{name} has no manylinux tag")
        if not any(re.match(r"msparam\.libs/lib(gomp|omp)[-.]", member) for member in names):
            problems.append("no OpenMP runtime in msparam.libs/")
    return problems


def check(path, bundled_openmp=False):
    if path.endswith(".tar.gz"):
        with tarfile.open(path) as archive:
            names = [member.split("/", 1)[1] for member in archive.getnames() if "/" in member]
        return sdist_problems(names)
    with zipfile.ZipFile(path) as archive:
        return wheel_problems(archive, path.rsplit("/", 1)[-1], bundled_openmp)


def main(argv):
    bundled_openmp = "--bundled-openmp" in argv
    paths = [arg for arg in argv if arg != "--bundled-openmp"]
    failed = False
    for path in paths:
        problems = check(path, bundled_openmp)
        print(f"{path}: {'ok' if not problems else 'PROBLEMS'}")
        for problem in problems:
            print(f"  - {problem}")
        failed |= bool(problems)
    return 1 if failed or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Recipe of tests/data/random_hashes.json: SHA-256 of large MindSpore 2.10 initializer fills.

Runs only where ``mindspore`` imports (e.g. ``/tmp/ms/bin/python tests/data/make_random_hashes.py``);
msparam is never imported here.  For every random initializer, a few parameter sets, float16/32/64
and several global seeds, it fills a tensor of at least 16M elements the way a user would
(``set_seed(seed); initializer(init, shape, dtype).init_data().asnumpy()``) and records the
SHA-256 of the array's bytes.  At 16M elements almost every normal fill meets a Box-Muller uniform
whose low 23 bits are all zero (MindSpore clamps both to 1e-7f), which small golden arrays never
reach; the counts of those pairs, from the independent NumPy Philox of tests/_core, are recorded
per case so the test can show its cases cover them.

Orthogonal hashes depend on the LAPACK build behind numpy.linalg.qr, so its cases also record the
hash of the normal matrix MindSpore hands to QR (``_init_random_normal(0, 1, (rows, cols))`` after
the same seed) and the NumPy version and BLAS that made the final hash.
"""
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

import mindspore as ms
from mindspore.common import initializer as ms_init

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "_core"))
import philox_reference  # noqa: E402  (the tests' independent Philox)

SEEDS = [1, 1487730662, 20261201]
# (initializer expression, shape, dtypes, seeds).  Shapes hold >= 16M elements; odd totals reach
# the odd-tail path (a last cosine without its sine), 4-D shapes the receptive-field fans.
ALL = ("float16", "float32", "float64")
CASES = [
    ("Normal()", (4097, 4097), ALL, SEEDS),
    ("Normal(sigma=1.0, mean=0.5)", (16777217,), ("float32",), SEEDS),
    ("Uniform()", (4097, 4097), ALL, SEEDS),
    ("Uniform(scale=3.0)", (16777217,), ("float32",), SEEDS[:1]),
    ("TruncatedNormal()", (4097, 4097), ALL, SEEDS),
    ("TruncatedNormal(sigma=1.0, mean=0.5, a=-1.0, b=2.5)", (16777217,), ("float32",), SEEDS),
    # Bounds 40 sigma out: erfc_inv's argument reaches both of MindSpore's clamps.
    ("TruncatedNormal(sigma=1.0, mean=0.0, a=-40.0, b=40.0)", (16777216,), ("float32",), SEEDS[:1]),
    # Deep lower tail (subnormal q) and a window beyond double precision's reach in the upper tail.
    ("TruncatedNormal(sigma=1.0, mean=0.0, a=-30.0, b=-20.0)", (16777216,), ("float32",), SEEDS[:1]),
    ("TruncatedNormal(sigma=0.02, mean=0.0, a=0.17, b=0.2)", (16777216,), ("float32",), SEEDS[:1]),
    ("XavierUniform()", (1024, 1025, 4, 4), ALL, SEEDS),
    ("XavierNormal(gain=2.0)", (1024, 1025, 4, 4), ALL, SEEDS),
    ("HeUniform()", (4096, 4097), ALL, SEEDS),
    ("HeNormal(mode='fan_out', nonlinearity='relu')", (1024, 1025, 4, 4), ALL, SEEDS),
    ("HeNormal()", (4096, 4097), ALL, SEEDS),
    ("VarianceScaling()", (4096, 4097), ALL, SEEDS),
    ("VarianceScaling(scale=2.0, mode='fan_out', distribution='untruncated_normal')", (1024, 1025, 4, 4), ALL,
     SEEDS),
    ("VarianceScaling(scale=0.5, mode='fan_avg', distribution='uniform')", (4096, 4097), ALL, SEEDS[:2]),
    ("Sparse(sparsity=0.3, sigma=0.5)", (4097, 4096), ALL, SEEDS[:2]),
    # Orthogonal: a wide and a tall (trailing dimensions flattened) matrix, cheap for QR.
    ("Orthogonal()", (64, 262147), ALL, SEEDS[:1]),
    ("Orthogonal(gain=2.0)", (262147, 8, 8), ("float32",), SEEDS[1:2]),
]
NORMAL_FAMILY = ("Normal(", "XavierNormal(", "HeNormal(", "untruncated_normal", "Sparse(", "Orthogonal(")


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def clamped_pairs(seed, count):
    """(pairs with u1 clamped, pairs with u2 clamped) among the Box-Muller pairs of ``count``
    normal values of the stream that ``set_seed(seed)`` makes the next fill draw."""
    np.random.seed(seed)
    stream_seed = int(np.random.randint(low=1, high=1 << 63, dtype=np.int64))
    words = philox_reference.philox_uint32(stream_seed, 2 * ((count + 1) // 2)).reshape(-1, 2)
    zero = (words & np.uint32(0x7FFFFF)) == 0
    return int(zero[:, 0].sum()), int(zero[:, 1].sum())


def blas():
    blas_info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return f"{blas_info['name']} {blas_info['version']}"


def main():
    namespace = vars(ms_init)
    cases = []
    for expression, shape, dtypes, seeds in CASES:
        for seed in seeds:
            coverage = None
            if any(name in expression for name in NORMAL_FAMILY):
                coverage = clamped_pairs(seed, int(np.prod(shape)))
            for dtype in dtypes:
                started = time.perf_counter()
                ms.set_seed(seed)
                values = ms_init.initializer(eval(expression, namespace), shape, getattr(ms, dtype))
                values = values.init_data().asnumpy()
                case = {"init": expression, "shape": list(shape), "dtype": dtype, "seed": seed,
                        "sha256": sha256(values)}
                if coverage is not None:
                    case["clamped_u1_pairs"], case["clamped_u2_pairs"] = coverage
                if expression.startswith("Orthogonal("):
                    ms.set_seed(seed)
                    rows = shape[0]
                    draw = ms_init._init_random_normal(0, 1, (rows, int(np.prod(shape)) // rows))
                    case["normal_sha256"] = sha256(draw)
                    case["numpy"] = np.__version__
                    case["blas"] = blas()
                cases.append(case)
                print(f"{expression} {shape} {dtype} seed {seed}: {time.perf_counter() - started:.1f} s",
                      flush=True)
    document = {"mindspore_version": ms.__version__, "recipe": "tests/data/make_random_hashes.py",
                "cases": cases}
    (HERE / "random_hashes.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""The MSPARAM_CPU_ISA cap, read once at import: each case runs in a fresh interpreter."""
import os
import subprocess
import sys

import numpy as np
import pytest

# Prints the ISAs both compiled cores offer and the one a default Conv2dPlan takes, and saves a
# default-ISA convolution, the same convolution on every offered ISA, a random fill and a constant
# fill (the vector stores of the capped ISA; 7 items past whole patterns).
PROBE = """
import sys
import numpy as np
from msparam._core import _philox_fill, _storage, conv_plan
pattern_fill = np.empty((1 << 19) + 7, np.float32)
_storage.array_fill(pattern_fill, 1.5, 2)
rng = np.random.default_rng(5)
x = rng.standard_normal((2, 5, 9, 11), dtype=np.float32)
w = rng.standard_normal((7, 5, 3, 3), dtype=np.float32)
plan = conv_plan.Conv2dPlan(w.shape, w.dtype, (1, 1), (1, 1), (1, 1, 1, 1), 1)
outputs = {f"conv_{isa}": conv_plan.Conv2dPlan(w.shape, w.dtype, (1, 1), (1, 1), (1, 1, 1, 1), 1,
                                               isa=isa)(x, w, None, 1)
           for isa in conv_plan.available_isas()}
fill = np.empty(1000, np.float32)
_philox_fill.fill_normal(7, fill, 0.0, 1.0, 1)
np.savez(sys.argv[1], conv=plan(x, w, None, 1), fill=fill, pattern_fill=pattern_fill, **outputs)
print(",".join(conv_plan.available_isas()), ",".join(_philox_fill.available_isas()), plan.isa)
"""


def probe(tmp_path, cap):
    """(conv ISAs, random ISAs, default plan ISA, saved arrays) in a process with the cap set
    (removed if None)."""
    env = {k: v for k, v in os.environ.items() if k != "MSPARAM_CPU_ISA"}
    if cap is not None:
        env["MSPARAM_CPU_ISA"] = cap
    path = tmp_path / f"{cap}.npz"
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], env=env, capture_output=True,
                          text=True, check=True)
    conv_isas, random_isas, default = done.stdout.split()
    return conv_isas.split(","), random_isas.split(","), default, np.load(path)


@pytest.fixture(scope="module")
def uncapped(tmp_path_factory):
    return probe(tmp_path_factory.mktemp("uncapped"), None)


@pytest.mark.parametrize("cap", ["BASE", "avx2", "Avx512", "avx", "avx2x", ""])
def test_cap_selects_the_isa_and_keeps_results(tmp_path, uncapped, cap):
    widest, _, widest_default, widest_arrays = uncapped
    conv_isas, random_isas, default, arrays = probe(tmp_path, cap)
    # Case-insensitive; never above what the CPU runs (a CPU without AVX-512 ignores 'Avx512');
    # unknown values (prefixes and extensions of names too) and empty ones are ignored.
    known = cap.lower() in widest
    expected = widest[:widest.index(cap.lower()) + 1] if known else widest
    assert conv_isas == random_isas == expected
    assert default == expected[-1]
    assert arrays["conv"].tobytes() == widest_arrays[f"conv_{default}"].tobytes()
    np.testing.assert_allclose(arrays["conv"], widest_arrays[f"conv_{widest_default}"],
                               rtol=1e-5, atol=1e-5)
    assert arrays["fill"].tobytes() == widest_arrays["fill"].tobytes()
    assert arrays["pattern_fill"].tobytes() == np.full((1 << 19) + 7, 1.5, np.float32).tobytes()


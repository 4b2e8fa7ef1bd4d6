"""Import time of msparam next to NumPy's (which msparam imports) and the peers', each in a fresh interpreter.

The timed call is a whole ``python -c "import X"`` subprocess, interpreter start included (the
same for every implementation), so msparam / numpy is the cost msparam adds on top of NumPy.
"""
import subprocess
import sys

import pytest

from peers import implementations, record_throughput


@pytest.mark.parametrize("impl", implementations("msparam", "numpy", "torch", "mindspore"))
def test_import(benchmark, impl):
    benchmark.group = "import"
    command = [sys.executable, "-c", f"import {impl}"]
    benchmark(subprocess.run, command, check=True)
    record_throughput(benchmark, 1, "imports")

"""Run by tests/parallel/test_mpi.py under ``mpiexec -n N``: each rank checks its slices against the
tensor one process draws, and that bad layouts raise on every rank.  Exit status 0 and, from
rank 0, one line "ok <check> <count of rank 0> <count of rank 1> ..." when everything held."""
import itertools
import math
import sys

import numpy as np

import msparam as ms
from msparam import communication
from msparam.common import initializer as inits
from msparam.parallel._layout import Layout, parse_layout

INITIALIZERS = [
    inits.Zero(), inits.One(), inits.Constant(-1.5), inits.Uniform(0.3), inits.Normal(1.0, 0.5),
    inits.TruncatedNormal(0.5, 0.1, -0.4, 0.9), inits.XavierUniform(), inits.XavierNormal(),
    inits.HeUniform(), inits.HeNormal(mode="fan_out"), inits.VarianceScaling(),
    inits.VarianceScaling(2.0, "fan_avg", "untruncated_normal"), inits.Identity(), inits.Dirac(),
    inits.Orthogonal(), inits.Sparse(0.3, 0.2),
]
DTYPES = [ms.float16, ms.float32, ms.float64]
SHAPES = [(12, 36), (6, 4, 12)]
LAYOUTS_PER_SHAPE = 16


def fits(init, shape):
    if isinstance(init, (inits.Identity, inits.Sparse)):
        return len(shape) == 2
    return not isinstance(init, inits.Dirac) or len(shape) in (3, 4, 5)


def layouts(size, shape):
    """Every device matrix of 1-3 axes with product ``size``, each with every tensor_map that
    divides ``shape``: rows, columns, both, replicated axes, tuples of axes."""
    found = []
    for length in (1, 2, 3):
        for dev_mat in itertools.product(range(1, size + 1), repeat=length):
            if math.prod(dev_mat) != size:
                continue
            choices = [-1, *range(length)] + [tuple(p) for p in itertools.permutations(range(length), 2)]
            for tensor_map in itertools.product(choices, repeat=len(shape)):
                used = [a for entry in tensor_map for a in (entry if isinstance(entry, tuple) else (entry,)) if a != -1]
                if len(used) != len(set(used)):
                    continue
                layout = Layout((list(dev_mat), list(tensor_map), [], 0, True, ""))
                splits = layout.splits()
                if any(dim % parts for dim, parts in zip(shape, splits)):
                    continue
                found.append((list(dev_mat), list(tensor_map),
                              [dim // parts for dim, parts in zip(shape, splits)], 0, True, ""))
    # the plain cases (rows, last dimension, every dimension, replicated), then an even sample of
    # the rest (several axes, tuples, 1-3-axis matrices), to keep the run short
    plain = [layout for layout in found if len(layout[0]) == 1 or (len(layout[0]) == 2 and 1 not in layout[0])]
    return plain + found[::max(1, len(found) // LAYOUTS_PER_SHAPE)]


def make_parameters(parallel):
    """One Parameter per (initializer, dtype, shape), in a fixed order, after set_seed(5)."""
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel" if parallel else "stand_alone")
    ms.set_seed(5)
    made = [ms.Parameter(inits.initializer(init, shape, dtype), name=f"p{i}")
            for i, (init, dtype, shape) in enumerate(itertools.product(INITIALIZERS, DTYPES, SHAPES))
            if fits(init, shape)]
    after = np.random.randint(1 << 30)
    ms.reset_auto_parallel_context()
    return made, after


def check_slices(rank, size):
    count = 0
    full, full_after = make_parameters(parallel=False)
    for shape in SHAPES:
        for layout in layouts(size, shape):
            lazy, lazy_after = make_parameters(parallel=True)
            assert full_after == lazy_after, "seeds consumed differently"
            bounds = parse_layout(layout, shape, rank, size)
            index = tuple(slice(*b) for b in bounds)
            # materialise in reverse order: a slice does not depend on when it is drawn
            for whole, param in reversed(list(zip(full, lazy))):
                if whole.shape != shape:
                    continue
                param.init_data(layout, set_sliced=True)
                expected = whole.asnumpy()[index]
                assert param.shape == expected.shape and param.sliced, (layout, param.name)
                assert param.asnumpy().tobytes() == expected.tobytes(), (layout, param.name, rank)
                count += 1
    return count


def expect_error(call, error):
    try:
        call()
    except error:
        return 1
    raise AssertionError(f"{call} did not raise {error}")


def check_bad_layouts(rank, size):
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel")
    count = 0
    bad = [([size + 1], [0, -1], [1, 36], 0, True, ""), ([size], [0, -1], [12 // size + 1, 36], 0, True, ""),
           ([size], [0, -1], [12 // size, 36], 0, True, "opt"), [[size], [0, -1], [12 // size, 36], 0, True, ""]]
    for init in (inits.Normal(), inits.Orthogonal(), inits.Sparse(0.5)):
        for layout in bad:
            param = ms.Parameter(inits.initializer(init, (12, 36)), name="w")
            count += expect_error(lambda: param.init_data(layout), (TypeError, ValueError))
            assert param.has_init
        if size > 1:
            # one rank's layout is bad: it raises its error, the others learn of it, nobody hangs
            good = ([size], [0, -1], [12 // size, 36], 0, True, "")
            param = ms.Parameter(inits.initializer(init, (12, 36)), name="w")
            layout = bad[0] if rank == 0 else good
            if isinstance(init, inits.Normal):  # no collective: only rank 0 fails
                if rank == 0:
                    count += expect_error(lambda: param.init_data(layout), ValueError)
                else:
                    param.init_data(layout)
            else:
                count += expect_error(lambda: param.init_data(layout), ValueError if rank == 0 else RuntimeError)
    ms.reset_auto_parallel_context()
    return count


CHECKS = {"slices": check_slices, "bad_layouts": check_bad_layouts}

if __name__ == "__main__":
    communication.init()
    rank, size = communication.get_rank(), communication.get_group_size()
    for name in sys.argv[1:]:
        counted = communication.management.world().gather(CHECKS[name](rank, size))
        if rank == 0:  # one line from one rank: the launcher may interleave several ranks' output
            print(f"ok {name} {' '.join(map(str, counted))}", flush=True)
    communication.release()

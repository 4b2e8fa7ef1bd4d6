"""The fills behind the initializers: parts the golden arrays are too small to reach."""
import threading
import tracemalloc

import numpy as np
import pytest

import msparam as ms
from msparam.common import _checked_fill
from msparam.common.seed import next_stream_seed
from msparam.common.initializer import _STAGING_PIECE, Normal, TruncatedNormal, Uniform, initializer
from interleaving import drawing_meanwhile


def test_truncated_normal_rounds_parameters_to_float32_first():
    exact = np.empty(1000, np.float32)
    rounded = np.empty(1000, np.float32)
    _checked_fill.fill_truncated_normal(5, exact, 0.1, 0.3, -0.2, 0.7)
    _checked_fill.fill_truncated_normal(5, rounded, *(float(np.float32(v)) for v in (0.1, 0.3, -0.2, 0.7)))
    assert exact.tobytes() == rounded.tobytes()
    assert exact.min() >= np.float32(-0.2) and exact.max() <= np.float32(0.7)


def test_truncated_normal_element_i_uses_stream_number_i():
    # Each element depends on its own uint32 only, so a prefix fill is a prefix of a longer one.
    short, long = np.empty(7, np.float32), np.empty(4099, np.float32)
    _checked_fill.fill_truncated_normal(9, short, 0.0, 1.0, -1.0, 2.0)
    _checked_fill.fill_truncated_normal(9, long, 0.0, 1.0, -1.0, 2.0)
    assert short.tobytes() == long[:7].tobytes()


def test_parameters_are_rounded_to_float32_first():
    exact, rounded = np.empty(101, np.float32), np.empty(101, np.float32)
    _checked_fill.fill_normal(7, exact, 0.1, 0.3)
    _checked_fill.fill_normal(7, rounded, float(np.float32(0.1)), float(np.float32(0.3)))
    assert exact.tobytes() == rounded.tobytes()
    _checked_fill.fill_uniform(2**64 - 1, exact, -0.1, 0.7)
    _checked_fill.fill_uniform(2**64 - 1, rounded, float(np.float32(-0.1)), float(np.float32(0.7)))
    assert exact.tobytes() == rounded.tobytes()


@pytest.mark.parametrize("seed, error, match", [(1.0, TypeError, "'seed'"), (True, TypeError, "'seed'"),
                                                (-1, ValueError, "'seed'"), (2**64, ValueError, "'seed'")])
def test_bad_seed(seed, error, match):
    with pytest.raises(error, match=match):
        _checked_fill.fill_uniform(seed, np.empty(3, np.float32), 0, 1)


@pytest.mark.parametrize("out, error", [([0.0], TypeError), (np.empty(3, np.float64), TypeError),
                                        (np.empty((2, 2), np.float32), ValueError),
                                        (np.empty(6, np.float32)[::2], ValueError)])
def test_bad_output(out, error):
    with pytest.raises(error, match="'out'"):
        _checked_fill.fill_normal(1, out, 0, 1)


def test_read_only_output_and_bad_parameters():
    frozen = np.zeros(3, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _checked_fill.fill_uniform(1, frozen, 0, 1)
    assert not frozen.any()
    with pytest.raises(TypeError, match="'sigma'"):
        _checked_fill.fill_normal(1, np.empty(3, np.float32), 0, "1")
    with pytest.raises(TypeError, match="'a'"):
        _checked_fill.fill_uniform(1, np.empty(3, np.float32), None, 1)


@pytest.mark.parametrize("start, error", [(1.5, TypeError), (-4, ValueError), (2, ValueError)])
def test_bad_start(start, error):
    with pytest.raises(error, match="'start'"):
        _checked_fill.fill_normal(1, np.empty(3, np.float32), 0, 1, start=start)


@pytest.mark.parametrize("init", [Normal(0.2), Uniform(0.5), TruncatedNormal(0.3)])
def test_other_dtypes_and_layouts_are_the_float32_fill_cast(init):
    # Three staging pieces and a part of one: several pieces, the last one short.
    shape = (3, _STAGING_PIECE + 1)
    ms.set_seed(4)
    expected = initializer(init, shape, ms.float32).init_data().asnumpy()
    for dtype in (ms.float16, ms.float64):
        ms.set_seed(4)
        values = initializer(init, shape, dtype).init_data().asnumpy()
        assert values.tobytes() == expected.astype(values.dtype).tobytes()
    ms.set_seed(4)
    transposed = np.empty(shape[::-1], np.float32).T
    init(transposed)
    assert transposed.tobytes() == expected.tobytes()


def test_a_float16_fill_needs_no_float32_copy_of_the_output():
    shape = (1024, 1024)
    tracemalloc.start()
    initializer(Normal(), shape, ms.float16).init_data()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    output_bytes = 2 * shape[0] * shape[1]
    assert peak < 1.2 * output_bytes + 4 * _STAGING_PIECE  # output + one float32 staging piece


def test_fills_from_many_threads_draw_the_single_thread_stream_seeds():
    # What is deterministic under threads (msparam/common/seed.py): the set of stream seeds, hence
    # the set of filled arrays; which thread gets which depends on the scheduler.
    threads, per_thread = 8, 50
    ms.set_seed(123)
    expected = sorted(next_stream_seed() for _ in range(threads * per_thread))
    expected_fills = []
    ms.set_seed(7)
    for _ in range(threads):
        expected_fills.append(initializer(Normal(1.0), (257,)).init_data().asnumpy().tobytes())

    barrier = threading.Barrier(threads)
    seeds, fills = [], []

    def draw():
        barrier.wait()
        mine = [next_stream_seed() for _ in range(per_thread)]
        seeds.extend(mine)

    def fill():
        barrier.wait()
        fills.append(initializer(Normal(1.0), (257,)).init_data().asnumpy().tobytes())

    for target, seed in ((draw, 123), (fill, 7)):
        ms.set_seed(seed)
        workers = [threading.Thread(target=target) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sorted(seeds) == expected
    assert sorted(fills) == sorted(expected_fills)


def test_a_sparse_fill_draws_its_stream_seed_and_permutations_as_one_block(monkeypatch):
    """Sparse draws a stream seed, then its permutations, from the global RandomState: another
    thread's draw forced in between (given 0.3 s; it waits for the fill's lock instead) must not
    land between them, so the fill and the other draw are those of a single thread."""
    from msparam.common import initializer as init_module

    shape = (16, 8)
    ms.set_seed(5)
    expected = initializer(init_module.Sparse(0.5), shape).init_data().asnumpy()
    expected_next = next_stream_seed()
    ms.set_seed(5)
    other_seeds, others = [], []
    monkeypatch.setattr(init_module, "zero_permuted_rows",
                        drawing_meanwhile(init_module.zero_permuted_rows, other_seeds, others))
    filled = initializer(init_module.Sparse(0.5), shape).init_data().asnumpy()
    others[0].join()
    assert filled.tobytes() == expected.tobytes()
    assert other_seeds == [expected_next]

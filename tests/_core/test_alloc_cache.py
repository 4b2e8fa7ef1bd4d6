"""Storage's cache of freed blocks (msparam/_core/alloc_cache.h): reuse, bounds, trimming, views, threads, fork."""
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc

import numpy as np
import pytest

import msparam.common.initializer as init
from msparam._core._storage import alloc_cache_info, array_empty, set_alloc_cache_limit, trim_alloc_cache
from msparam.common import dtype as mstype

MIB = 1 << 20
FLOAT32 = mstype.float32._code
SLOTS = 64  # alloc_cache.h: MSPARAM_CACHE_SLOTS


@pytest.fixture
def cache():
    """An empty cache of 64 MiB (whatever the build's default), restored afterwards."""
    previous = set_alloc_cache_limit(64 * MIB)
    trim_alloc_cache()
    yield
    trim_alloc_cache()
    set_alloc_cache_limit(previous)


def address(array):
    return array.__array_interface__["data"][0]


def test_a_freed_block_is_handed_out_again(cache):
    first = array_empty((1000, 1000), FLOAT32)
    where = address(first)
    del first
    assert alloc_cache_info()["blocks"] == 1
    hits = alloc_cache_info()["hits"]
    again = array_empty((1000, 1001), FLOAT32)  # a few bytes more: the same size class
    assert address(again) == where
    assert alloc_cache_info()["hits"] == hits + 1 and alloc_cache_info()["blocks"] == 0


def test_fills_allocate_through_the_cache(cache):
    first = init.initializer(init.One(), (1000, 1000)).init_data()
    where = address(first.asnumpy())
    del first
    filled = init.initializer(init.Constant(0.5), (1000, 1000)).init_data().asnumpy()
    assert address(filled) == where
    assert (filled == 0.5).all()


def test_a_zeroed_storage_from_a_used_block_is_zero(cache):
    used = array_empty((512, 1024), FLOAT32)
    used.fill(7.0)
    where = address(used)
    del used
    zeroed = array_empty((512, 1024), FLOAT32, zero=True)
    assert address(zeroed) == where
    assert not zeroed.any()


def test_small_blocks_bypass_the_cache(cache):
    small = array_empty((alloc_cache_info()["min_block"] // 8,), FLOAT32)  # half the minimum
    del small
    assert alloc_cache_info()["blocks"] == 0


def test_views_keep_the_block_out_of_the_cache(cache):
    owner = array_empty((1000, 1000), FLOAT32)
    owner.fill(3.0)
    where = address(owner)
    row, buffer = owner[10], memoryview(owner)
    del owner
    assert alloc_cache_info()["blocks"] == 0  # the views hold the storage, so the block is in use
    other = array_empty((1000, 1000), FLOAT32)
    other.fill(-1.0)
    assert address(other) != where
    assert (row == 3.0).all() and np.frombuffer(buffer, np.float32)[0] == 3.0
    del row
    assert alloc_cache_info()["blocks"] == 0
    del buffer
    assert alloc_cache_info()["blocks"] == 1


def test_the_cache_stays_within_its_byte_bound(cache):
    set_alloc_cache_limit(16 * MIB)
    arrays = [array_empty((MIB,), FLOAT32) for _ in range(8)]  # 4 MiB each, 4.5 MiB with its class
    del arrays
    info = alloc_cache_info()
    assert info["bytes"] <= 16 * MIB and info["blocks"] == 3
    too_big = array_empty((5 * MIB,), FLOAT32)  # more than the whole bound
    del too_big
    assert alloc_cache_info()["blocks"] == 3


def test_the_cache_stays_within_its_block_count(cache):
    arrays = [array_empty((alloc_cache_info()["min_block"] // 4,), FLOAT32) for _ in range(SLOTS + 10)]
    del arrays
    assert alloc_cache_info()["blocks"] == SLOTS


def test_lowering_the_limit_trims_and_zero_turns_the_cache_off(cache):
    arrays = [array_empty((MIB,), FLOAT32) for _ in range(4)]
    del arrays
    assert alloc_cache_info()["blocks"] == 4
    assert set_alloc_cache_limit(10 * MIB) == 64 * MIB
    assert alloc_cache_info()["blocks"] == 2
    set_alloc_cache_limit(0)
    assert alloc_cache_info()["blocks"] == 0
    array = array_empty((MIB,), FLOAT32)
    del array
    assert alloc_cache_info()["blocks"] == 0


def test_trim_keeps_the_newest_blocks_up_to_keep(cache):
    arrays = [array_empty((MIB,), FLOAT32) for _ in range(4)]
    del arrays
    block = alloc_cache_info()["bytes"] // 4
    assert trim_alloc_cache(keep=2 * block) == 2 * block
    assert alloc_cache_info()["bytes"] == 2 * block
    assert trim_alloc_cache() == 2 * block and alloc_cache_info()["blocks"] == 0


@pytest.mark.parametrize("call, argument, error", [
    (set_alloc_cache_limit, -1, ValueError), (set_alloc_cache_limit, "1", TypeError),
    (set_alloc_cache_limit, True, TypeError), (trim_alloc_cache, -1, ValueError), (trim_alloc_cache, 1.0, TypeError),
])
def test_bad_arguments_are_refused_by_name(call, argument, error):
    with pytest.raises(error, match="limit|keep"):
        call(argument)


TRIM_RSS = """
    import sys
    from msparam._core._storage import alloc_cache_info, array_empty, set_alloc_cache_limit, trim_alloc_cache

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    set_alloc_cache_limit(64 << 20)
    arrays = [array_empty((1 << 20,), int(sys.argv[1])) for _ in range(8)]  # 8 x 4 MiB
    for array in arrays:
        array.fill(1.0)
    before = rss()
    del arrays, array
    cached = alloc_cache_info()["bytes"]
    held = rss()
    trim_alloc_cache()
    print(before, held, rss(), cached)
"""


def test_trim_returns_the_cached_memory_to_the_os():
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:  # CI's sanitizer run: ASan's quarantine keeps freed blocks resident by design
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=0"
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(TRIM_RSS), str(FLOAT32)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    before, held, after, cached = map(int, result.stdout.split())
    assert cached >= 32 * MIB
    assert held > before - 4 * MIB  # freed into the cache: still resident
    assert held - after > 28 * MIB  # trimmed: back to the OS


def test_many_threads_never_share_a_block(cache):
    errors = []
    shapes = [(MIB // 4,), (MIB // 2,), (MIB,)]

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(100):
                arrays = [array_empty(shapes[rng.integers(3)], FLOAT32) for _ in range(rng.integers(1, 4))]
                for index, array in enumerate(arrays):
                    array[::4096] = seed * 10 + index
                for index, array in enumerate(arrays):
                    if not (array[::4096] == seed * 10 + index).all():
                        errors.append(f"thread {seed}: a block was handed out twice")
        except Exception as error:  # noqa: BLE001 - reported in the main thread
            errors.append(repr(error))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    info = alloc_cache_info()
    assert info["bytes"] <= 64 * MIB and info["blocks"] <= SLOTS and info["hits"] > 0


def test_a_forked_child_reuses_and_trims_its_copy_of_the_cache(cache):
    kept = array_empty((1000, 1000), FLOAT32)
    kept.fill(5.0)
    freed = array_empty((1000, 1000), FLOAT32)
    where = address(freed)
    del freed
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only if everything held
        try:
            reused = array_empty((1000, 1000), FLOAT32)
            reused.fill(-2.0)
            ok = address(reused) == where and (kept == 5.0).all()
            del reused
            ok = ok and trim_alloc_cache() > 0 and alloc_cache_info()["blocks"] == 0
            ok = ok and (array_empty((1000, 1000), FLOAT32, zero=True) == 0).all()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    reused = array_empty((1000, 1000), FLOAT32)  # the parent's cache is its own
    assert address(reused) == where and (kept == 5.0).all()


CACHE_STATE = """
    from msparam._core._storage import alloc_cache_info, array_empty
    array = array_empty((1 << 20,), 0)
    del array
    info = alloc_cache_info()
    print(info["limit"], info["blocks"], int(info["asan"]))
"""


@pytest.mark.parametrize("setting", [None, "0"])
def test_the_environment_switch_turns_the_cache_off(setting):
    env = {key: value for key, value in os.environ.items() if key != "MSPARAM_ALLOC_CACHE"}
    if setting is not None:
        env["MSPARAM_ALLOC_CACHE"] = setting
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(CACHE_STATE)], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    limit, blocks, asan = map(int, result.stdout.split())
    if setting == "0" or asan:  # off, and under AddressSanitizer off unless a test turns it on
        assert (limit, blocks) == (0, 0)
    else:
        assert (limit, blocks) == (64 * MIB, 1)


def test_tracemalloc_sees_a_reused_block_as_allocated_and_a_cached_one_as_freed(cache):
    array = array_empty((1000, 1000), FLOAT32)
    del array  # cached before tracing starts
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        reused = array_empty((1000, 1000), FLOAT32)
        assert alloc_cache_info()["blocks"] == 0
        held = tracemalloc.get_traced_memory()[0]
        del reused
        released = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held - start >= 4_000_000
    assert held - released >= 4_000_000 and alloc_cache_info()["blocks"] == 1

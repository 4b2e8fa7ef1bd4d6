"""The compiled legacy permutations make NumPy's RandomState draws exactly, on any bit generator."""
import numpy as np
import pytest

from msparam._core._legacy_shuffle import zero_permuted_rows


def numpy_zeroed(random_state, rows, cols, zeros_per_column):
    values = np.ones((rows, cols), np.float32)
    for col in range(cols):
        values[random_state.permutation(rows)[:zeros_per_column], col] = 0
    return values


@pytest.mark.parametrize("rows, cols, zeros_per_column", [
    (1, 3, 1), (2, 5, 1), (3, 4, 0), (7, 6, 3), (100, 9, 100), (1000, 4, 101), (4097, 2, 2000)])
@pytest.mark.parametrize("make_generator", [np.random.MT19937, np.random.PCG64], ids=["MT19937", "PCG64"])
def test_zeroed_rows_and_state_after_equal_numpys_permutations(rows, cols, zeros_per_column, make_generator):
    expected_state = np.random.RandomState(make_generator(rows))
    expected = numpy_zeroed(expected_state, rows, cols, zeros_per_column)
    generator = make_generator(rows)
    values = np.ones((rows, cols), np.float32)
    zero_permuted_rows(generator, rows, cols, zeros_per_column, values)
    assert values.tobytes() == expected.tobytes()
    assert np.random.RandomState(generator).random(8).tolist() == expected_state.random(8).tolist()


def test_draws_alone_advance_the_generator_as_the_fill_does():
    filled, drawn = np.random.MT19937(3), np.random.MT19937(3)
    zero_permuted_rows(filled, 50, 20, 5, np.ones((50, 20), np.float32))
    zero_permuted_rows(drawn, 50, 20, 5)
    assert filled.random_raw(4).tolist() == drawn.random_raw(4).tolist()


def test_a_strided_view_is_zeroed_in_place():
    base = np.ones((30, 16), np.float32)
    zero_permuted_rows(np.random.MT19937(9), 30, 8, 4, base[:, ::2])
    assert np.all(base[:, 1::2] == 1)
    assert np.all((base[:, ::2] == 0).sum(axis=0) == 4)


def test_the_global_random_state_sees_the_same_numbers_as_numpys_own_calls():
    np.random.seed(11)
    expected = numpy_zeroed(np.random, 64, 10, 7)
    after = np.random.random()
    np.random.seed(11)
    values = np.ones((64, 10), np.float32)
    zero_permuted_rows(np.random.get_bit_generator(), 64, 10, 7, values)
    assert values.tobytes() == expected.tobytes() and np.random.random() == after

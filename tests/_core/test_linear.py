"""Dense forward kernels (msparam/_core/_linear.pyx, linear_kernels.h) against a float64 reference,
on every SIMD path this CPU runs."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from msparam._core._cpu_isa import available_isas, isa_index
from msparam._core._linear import LinearKernels, dense_forward

ISAS = available_isas()


def assert_close_to_reference(y, x, weight, bias):
    """Forward error bound of a K-term dot product plus the bias: |y - exact| <= gamma(K + 1)
    * (sum |x w| + |b|), u the unit roundoff of the dtype."""
    x64, w64 = x.astype(np.float64), weight.astype(np.float64)
    b64 = np.zeros(weight.shape[0]) if bias is None else bias.astype(np.float64)
    exact = x64 @ w64.T + b64
    magnitude = np.abs(x64) @ np.abs(w64).T + np.abs(b64)
    terms = weight.shape[1] + 1
    u = np.finfo(x.dtype).eps / 2
    bound = terms * u / (1 - terms * u) * magnitude
    assert y.shape == exact.shape and y.dtype == x.dtype and y.flags.c_contiguous
    assert np.all(np.abs(y.astype(np.float64) - exact) <= bound), np.max(np.abs(y - exact) - bound)


def make(rng, shape, dtype, layout):
    """An array of ``shape``: C-contiguous, strided (every other column), or C-contiguous but
    starting 4 bytes past an aligned address (the kernels copy such rows to aligned ones)."""
    if layout == "strided":
        return rng.uniform(-1, 1, (*shape[:-1], 2 * shape[-1])).astype(dtype)[..., ::2]
    if layout == "offset":
        size = int(np.prod(shape))
        buffer = np.empty(size * np.dtype(dtype).itemsize + 64, np.uint8)
        start = (-buffer.ctypes.data) % 64 + 4
        array = buffer[start:start + size * np.dtype(dtype).itemsize].view(dtype).reshape(shape)
        array[...] = rng.uniform(-1, 1, shape)
        return array
    return rng.uniform(-1, 1, shape).astype(dtype)


@settings(max_examples=300, deadline=None)
@given(isa=st.sampled_from(ISAS), dtype=st.sampled_from([np.float32, np.float64]),
       leading=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       inputs=st.one_of(st.integers(1, 40), st.integers(41, 300)), features=st.integers(1, 37),
       bias=st.booleans(), layout=st.sampled_from(["c", "strided", "offset"]),
       num_threads=st.integers(1, 3), panels=st.sampled_from([None, True, False]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_matches_float64_reference(isa, dtype, leading, inputs, features, bias, layout, num_threads,
                                   panels, seed):
    # Every block shape (rows and features short of a whole register block, a row length that is
    # not a whole number of vectors, more inputs than one panel holds), strided and misaligned
    # rows, several threads, on both kinds of blocks.
    rng = np.random.default_rng(seed)
    x = make(rng, (*leading, inputs), dtype, layout)
    weight = make(rng, (features, inputs), dtype, layout)
    b = make(rng, (features,), dtype, layout) if bias else None
    y = LinearKernels(isa_index(isa)).forward(x, weight, b, num_threads, panels)
    assert y.shape == (*leading, features)
    assert_close_to_reference(y.reshape(-1, features), x.reshape(-1, inputs), weight, b)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("panels", [True, False])
@pytest.mark.parametrize("inputs", [203, 531])
def test_thread_count_does_not_change_result(isa, dtype, panels, inputs):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((37, inputs)).astype(dtype)
    weight = rng.standard_normal((161, inputs)).astype(dtype)
    bias = rng.standard_normal(161).astype(dtype)
    kernels = LinearKernels(isa_index(isa))
    one = kernels.forward(x, weight, bias, 1, panels)
    for threads in (2, 3, 7):
        assert np.array_equal(one, kernels.forward(x, weight, bias, threads, panels))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("panels", [True, False])
def test_every_output_is_its_own_dot_product(isa, panels):
    # Each output from its own row of x and row of weights: a fold or a panel transpose that
    # mixed up lanes, blocks or rows would put a one where a zero belongs.
    kernels = LinearKernels(isa_index(isa))
    mr, nr = (kernels.panel_mr, kernels.panel_nr) if panels else (kernels.mr, kernels.nr)
    rows, features = 2 * mr[0] + 1, 3 * nr[0] + 2
    inputs = rows * features
    x = np.zeros((rows, inputs), np.float32)
    weight = np.zeros((features, inputs), np.float32)
    for i in range(rows):
        for o in range(features):
            x[i, i * features + o] = weight[o, i * features + o] = 1
    bias = np.arange(features, dtype=np.float32) * 10
    assert np.array_equal(kernels.forward(x, weight, bias, 2, panels), np.ones((rows, features)) + bias)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("panels", [True, False])
def test_non_finite_values_stay_in_their_outputs(isa, panels):
    # Rows padded with zeros (or repeated to fill a block) must not spread an inf or a NaN.
    kernels = LinearKernels(isa_index(isa))
    x = np.ones((5, 19), np.float32)
    x[4, 18] = np.inf
    weight = np.ones((6, 19), np.float32)
    weight[5, 0] = np.nan
    y = kernels.forward(x, weight, None, 1, panels)
    assert np.isnan(y[:, 5]).all()
    assert np.isposinf(y[4, :5]).all() and (y[:4, :5] == 19).all()


def test_empty_inputs_give_empty_or_bias_outputs():
    kernels = LinearKernels(isa_index(None))
    assert kernels.forward(np.zeros((0, 4), np.float32), np.ones((3, 4), np.float32), None, 1).shape == (0, 3)
    assert kernels.forward(np.zeros((2, 0, 4)), np.ones((3, 4)), None, 1).shape == (2, 0, 3)
    y = kernels.forward(np.zeros((2, 0)), np.ones((3, 0)), np.array([1.0, 2.0, 3.0]), 1)
    assert y.tolist() == [[1.0, 2.0, 3.0]] * 2


@pytest.mark.parametrize("args, error, match", [
    ((np.ones((2, 3), np.int32), np.ones((4, 3), np.int32), None), TypeError, "'x' must be float32"),
    ((np.ones((2, 3), np.float32), np.ones((4, 3)), None), TypeError, "'weight' must have the dtype"),
    ((np.ones((2, 3)), np.ones((4, 3)), np.ones(4, np.float32)), TypeError, "'bias' must have the dtype"),
    ((np.ones((2, 3)), np.ones((4, 3)), [1.0] * 4), TypeError, "'bias' must be a numpy.ndarray"),
    ((np.ones((2, 3)), np.ones((4, 2)), None), ValueError, "'weight' must have shape"),
    ((np.ones((2, 3)), np.ones((4, 3)), np.ones(3)), ValueError, "'bias' \\(C_out,\\)"),
    ((np.ones((2, 3)), np.ones(3), None), ValueError, "rank"),
    ((np.ones(()), np.ones((4, 3)), None), ValueError, "rank"),
])
def test_bad_arguments_are_refused(args, error, match):
    with pytest.raises(error, match=match):
        LinearKernels(isa_index(None)).forward(*args, 1)
    with pytest.raises(ValueError, match="num_threads"):
        LinearKernels(isa_index(None)).forward(np.ones((2, 3)), np.ones((4, 3)), None, 0)


def test_only_the_paths_this_cpu_runs_are_offered():
    for isa in (-1, len(ISAS)):
        with pytest.raises(ValueError, match="'isa'"):
            LinearKernels(isa)
    with pytest.raises(ValueError, match="'itemsize'"):
        LinearKernels(0).threads_for(2, 2, 2, 2, 1)
    with pytest.raises(TypeError, match="'x' must be float32"):
        dense_forward(np.ones((2, 3), np.float16), np.ones((4, 3), np.float16), None, 1)


def test_shape_rule_keeps_small_products_on_one_thread_and_single_rows_past_l1_on_blas():
    kernels = LinearKernels(isa_index(None))
    assert kernels.threads_for(32, 128, 256, 4, 2) == 2  # the bench's small Dense, on panels
    assert kernels.threads_for(8, 128, 256, 4, 2) == 1
    assert kernels.threads_for(1, 10, 3, 8, 2) == 1
    assert kernels.threads_for(256, 4096, 4096, 4, 2) == 2  # the bench's large Dense
    assert kernels.threads_for(1, 10, 8192, 4, 2) == 0  # one row, a block of weight rows past L1
    assert kernels.threads_for(1, 4096, 4096, 4, 2) == 0  # a matrix-vector product


@pytest.mark.parametrize("shape", [(32, 256, 128), (3, 5, 300, 20), (1, 300, 20), (2048, 256, 256), (1, 9000, 40)])
def test_dense_forward_takes_either_path_with_the_same_meaning(shape):
    # Panels, dot-product blocks or NumPy's BLAS (one row of many inputs): all give x @ w.T + b.
    rng = np.random.default_rng(2)
    *leading, inputs, features = shape
    x = rng.standard_normal((*leading, inputs)).astype(np.float32)
    weight = rng.standard_normal((features, inputs)).astype(np.float32)
    bias = rng.standard_normal(features).astype(np.float32)
    y = dense_forward(x, weight, bias, 2)
    assert y.shape == (*leading, features) and y.dtype == np.float32
    assert_close_to_reference(y.reshape(-1, features), x.reshape(-1, inputs), weight, bias)

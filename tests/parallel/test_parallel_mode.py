"""Parallel mode keeps Parameters lazy; init_data(layout) draws this rank's slice only."""
import numpy as np
import pytest

import msparam as ms
from msparam import nn
from msparam.common.initializer import Normal, Orthogonal, initializer


def test_context_names_and_defaults():
    assert ms.get_auto_parallel_context("parallel_mode") == "stand_alone"
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel", device_num=4, gradients_mean=True)
    try:
        assert ms.get_auto_parallel_context("parallel_mode") == "semi_auto_parallel"
        assert ms.get_auto_parallel_context("device_num") == 4
    finally:
        ms.reset_auto_parallel_context()
    assert ms.get_auto_parallel_context("parallel_mode") == "stand_alone"


@pytest.mark.parametrize("kwargs, error, words", [
    ({"parallel_mode": "foo"}, ValueError, "only support"), ({"parallel_mode": 1}, TypeError, "parallel_mode"),
    ({"foo": 1}, ValueError, "keyword foo is not recognized"), ({"device_num": 0}, ValueError, "device_num"),
    ({"gradients_mean": 1}, TypeError, "gradients_mean"),
    ({"parallel_mode": "auto_parallel", "device_num": True}, TypeError, "device_num"),
])
def test_context_refuses_bad_settings_and_sets_nothing(kwargs, error, words):
    with pytest.raises(error, match=words):
        ms.set_auto_parallel_context(**kwargs)
    assert ms.get_auto_parallel_context("parallel_mode") == "stand_alone"
    with pytest.raises(ValueError, match="keyword bar is not recognized"):
        ms.get_auto_parallel_context("bar")


def test_parameter_stays_lazy_and_takes_its_seed_at_construction(parallel_mode):
    ms.set_seed(3)
    param = ms.Parameter(initializer(Normal(), (64, 32)), name="w")
    seed_after = np.random.randint(1 << 30)
    assert param.has_init and param.shape == (64, 32) and param.dtype == ms.float32
    assert "shape=(64, 32)" in repr(param)
    ms.set_seed(3)
    ms.reset_auto_parallel_context()
    expected = ms.Parameter(initializer(Normal(), (64, 32)), name="w").asnumpy()
    assert np.random.randint(1 << 30) == seed_after
    assert np.array_equal(param.init_data().asnumpy(), expected)
    assert not param.has_init and not param.sliced


def test_layers_stay_lazy(parallel_mode):
    ms.set_seed(1)
    dense, conv = nn.Dense(16, 8), nn.Conv2d(3, 4, 3, has_bias=True)
    assert all(p.has_init for p in (dense.weight, dense.bias, conv.weight, conv.bias))
    ms.reset_auto_parallel_context()
    ms.set_seed(1)
    eager_dense, eager_conv = nn.Dense(16, 8), nn.Conv2d(3, 4, 3, has_bias=True)
    for lazy, eager in ((dense, eager_dense), (conv, eager_conv)):
        for name, param in lazy.parameters_and_names():
            assert np.array_equal(param.asnumpy(), eager.parameters_dict()[name].asnumpy())


def test_init_data_with_a_layout_gives_this_ranks_slice(parallel_mode, as_rank):
    ms.set_seed(9)
    params = [ms.Parameter(initializer(Normal(), (8, 6)), name=f"w{i}") for i in range(4)]
    ms.reset_auto_parallel_context()
    ms.set_seed(9)
    full = [ms.Parameter(initializer(Normal(), (8, 6))).asnumpy() for _ in range(4)]
    layout = ([2, 2], [1, 0], [4, 3], 0, True, "")
    for rank, param in reversed(list(enumerate(params))):  # any order of materialisation
        as_rank(rank, 4)
        assert param.init_data(layout, set_sliced=True) is param
        rows, cols = divmod(rank, 2)
        assert param.shape == (4, 3) and param.sliced
        assert np.array_equal(param.asnumpy(), full[rank][rows * 4:rows * 4 + 4, cols * 3:cols * 3 + 3])
    assert params[0].init_data(layout) is params[0] and params[0].shape == (4, 3)  # drawn: unchanged


@pytest.mark.parametrize("layout, error", [
    ([[2], [0, -1], [4, 6], 0, True, ""], TypeError), (([2], [0, -1], [4, 6]), ValueError),
    (([2], [0, -1], [4, 6], 0, True, "opt"), ValueError), (([4], [0, -1], [2, 6], 0, True, ""), ValueError),
    (([2], [0, -1], [8, 6], 0, True, ""), ValueError), (([2], [-1, 0], [8, 3], 0, True, ""), None),
])
def test_bad_layouts_raise_and_leave_the_parameter_lazy(parallel_mode, as_rank, layout, error):
    as_rank(1, 2)
    param = ms.Parameter(initializer(Normal(), (8, 6)), name="w")
    if error is None:
        assert param.init_data(layout).shape == (8, 3)
        return
    with pytest.raises(error):
        param.init_data(layout)
    assert param.has_init and param.shape == (8, 6)


def test_whole_matrix_initializers_on_one_rank(parallel_mode):
    ms.set_seed(4)
    param = ms.Parameter(initializer(Orthogonal(), (6, 4)), name="q")
    after = np.random.randint(1 << 30)
    ms.reset_auto_parallel_context()
    ms.set_seed(4)
    full = ms.Parameter(initializer(Orthogonal(), (6, 4))).asnumpy()
    assert np.random.randint(1 << 30) == after
    param.init_data(([1], [0, -1], [6, 4], 0, True, ""))
    assert np.array_equal(param.asnumpy(), full)


def test_lazy_parameter_methods_materialise_the_full_tensor(parallel_mode):
    param = ms.Parameter(initializer("ones", (2, 3)), name="w")
    assert np.array_equal(param.clone().asnumpy(), np.ones((2, 3), np.float32))
    lazy = ms.Parameter(initializer("zeros", (2, 3)), name="z")
    lazy.set_data(ms.Tensor(np.full((2, 3), 5, np.float32)))
    assert np.array_equal(lazy.asnumpy(), np.full((2, 3), 5))
    with pytest.raises(ValueError, match="Can not change the shape"):
        ms.Parameter(initializer("zeros", (2, 3)), name="y").set_data(ms.Tensor(np.ones((3,), np.float32)))


def test_a_lazy_parameter_round_trips_through_pickle(parallel_mode):
    import pickle
    ms.set_seed(2)
    param = ms.Parameter(initializer(Normal(), (5, 3)), name="w")
    copy = pickle.loads(pickle.dumps(param))
    assert np.array_equal(copy.asnumpy(), param.asnumpy())


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.first = nn.Dense(8, 4)
        self.second = nn.Dense(4, 2, weight_init=Orthogonal())


def test_cell_init_parameters_data_with_layouts(parallel_mode, as_rank):
    ms.set_seed(11)
    net = Net()
    ms.reset_auto_parallel_context()
    ms.set_seed(11)
    reference = {name: param.asnumpy() for name, param in Net().parameters_and_names()}
    as_rank(1, 2)
    layouts = {"first.weight": ([2], [0, -1], [2, 8], 0, True, ""), "first.bias": ([2], [0], [2], 0, True, "")}
    with pytest.raises(ValueError, match="nope"):
        net.init_parameters_data(layouts={"nope": layouts["first.bias"]})
    with pytest.raises(ValueError, match="slice_shape"):
        net.init_parameters_data(layouts={**layouts, "second.weight": ([2], [0, -1], [2, 4], 0, True, "")})
    assert all(param.has_init for param in net.get_parameters())  # nothing drawn by a refused call
    replaced = net.init_parameters_data(auto_parallel_mode=True, layouts=layouts)
    assert set(p.name for p in replaced) == {"first.weight", "first.bias"}
    assert net.second.weight.has_init
    replaced = net.init_parameters_data(layouts=layouts)
    assert all(old is new for old, new in replaced.items()) and len(replaced) == 4
    assert np.array_equal(net.first.weight.asnumpy(), reference["first.weight"][2:4])
    assert np.array_equal(net.first.bias.asnumpy(), reference["first.bias"][2:4])
    assert net.first.weight.sliced and not net.second.weight.sliced
    assert np.array_equal(net.second.weight.asnumpy(), reference["second.weight"])
    with pytest.raises(TypeError, match="'layouts' must be a dict"):
        net.init_parameters_data(layouts=[1])


def test_without_mpi_the_context_names_the_rank_and_group(parallel_mode):
    ms.set_seed(9)
    param = ms.Parameter(initializer(Normal(), (8, 6)), name="w")
    ms.set_auto_parallel_context(device_num=4, global_rank=3)
    param.init_data(([4], [0, -1], [2, 6], 0, True, ""))
    ms.reset_auto_parallel_context()
    ms.set_seed(9)
    assert np.array_equal(param.asnumpy(), ms.Parameter(initializer(Normal(), (8, 6))).asnumpy()[6:8])
    with pytest.raises(ValueError, match="holds a slice for a group of 4 ranks"):
        ms.save_checkpoint([param], "unused.ckpt")
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel", device_num=2, global_rank=2)
    lazy = ms.Parameter(initializer(Normal(), (8, 6)), name="w")
    with pytest.raises(ValueError, match="'global_rank' \\(2\\) must be less than"):
        lazy.init_data(([2], [0, -1], [4, 6], 0, True, ""))

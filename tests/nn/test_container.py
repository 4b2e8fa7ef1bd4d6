"""SequentialCell and CellList: chaining, list operations, MindSpore 2.10's parameter names and errors.

The expected names and error texts were confirmed by running the same code on MindSpore 2.10.
"""
import re
from collections import OrderedDict

import numpy as np
import pytest

import msparam as ms
from msparam import nn


def names(cell):
    """Parameter.name of every Parameter, in traversal order."""
    return [param.name for param in cell.get_parameters()]


def paths(cell):
    return [path for path, _ in cell.parameters_and_names()]


def mlp():
    return nn.SequentialCell(nn.Dense(3, 4), nn.ReLU(), nn.Dense(4, 2))


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.body = mlp()
        self.heads = nn.CellList([nn.Dense(2, 2), nn.Dense(2, 1)])

    def construct(self, x):
        x = self.body(x)
        return [head(x) for head in self.heads]


# --- SequentialCell ------------------------------------------------------------------------------
def test_forward_equals_manual_chaining():
    seq = mlp()
    x = ms.Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    expected = seq[2](seq[1](seq[0](x)))
    w0, b0, w2, b2 = (p.asnumpy() for p in seq.get_parameters())
    manual = np.maximum(x.asnumpy() @ w0.T + b0, 0) @ w2.T + b2
    out = seq(x)
    np.testing.assert_array_equal(out.asnumpy(), expected.asnumpy())
    np.testing.assert_allclose(out.asnumpy(), manual, rtol=1e-6, atol=1e-7)
    assert out.shape == (5, 2)


def test_positional_names():
    seq = mlp()
    assert list(seq.parameters_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [p.name for p in seq.trainable_params()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert paths(seq) == names(seq)
    assert seq.parameters_dict()["2.bias"] is seq[2].bias


def test_list_and_single_cell_give_the_positional_names():
    assert names(nn.SequentialCell([nn.Dense(3, 4), nn.ReLU(), nn.Dense(4, 2)])) == names(mlp())
    assert names(nn.SequentialCell(nn.Dense(3, 4))) == ["0.weight", "0.bias"]


def test_ordered_dict_keys_name_the_cells():
    seq = nn.SequentialCell(OrderedDict([("fc1", nn.Dense(3, 4)), ("act", nn.ReLU()), ("fc2", nn.Dense(4, 2))]))
    assert list(seq.parameters_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert seq.fc2 is seq[2]
    assert names(nn.SequentialCell(OrderedDict([("a-b", nn.Dense(1, 1))]))) == ["a-b.weight", "a-b.bias"]


def test_names_inside_a_network():
    net = Net()
    expected = ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias"]
    assert list(net.parameters_dict()) == expected
    assert paths(net) == expected
    assert [c for c, _ in net.cells_and_names()] == ["", "body", "body.0", "body.1", "body.2", "heads", "heads.0",
                                                     "heads.1"]


def test_getitem():
    seq = mlp()
    first, relu, last = list(seq)
    assert seq[0] is first and seq[-1] is last and seq[-3] is first and seq[1] is relu
    assert len(seq) == 3


def test_slice_is_a_new_sequential_cell_keeping_keys():
    seq = mlp()
    tail = seq[1:]
    assert type(tail) is nn.SequentialCell
    assert list(tail) == [seq[1], seq[2]]
    # As in MindSpore, the new container names the shared cells by their keys.
    assert names(tail) == ["2.weight", "2.bias"]
    x = ms.Tensor(np.ones((2, 4), np.float32))
    np.testing.assert_array_equal(tail(x).asnumpy(), seq[2](seq[1](x)).asnumpy())


def test_setitem_renames_under_the_network_prefix():
    net = Net()
    new = nn.Dense(4, 2)
    net.body[-1] = new
    assert net.body[2] is new
    assert names(net)[:4] == ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]


def test_delitem_renumbers_positional_cells():
    net = Net()
    del net.body[0]
    assert [type(c).__name__ for c in net.body] == ["ReLU", "Dense"]
    assert names(net)[:2] == ["body.1.weight", "body.1.bias"]
    assert paths(net) == names(net)
    del net.body[:]
    assert len(net.body) == 0 and not net.body


def test_delitem_keeps_ordered_dict_keys():
    seq = nn.SequentialCell(OrderedDict([("x", nn.Dense(1, 1)), ("relu", nn.ReLU()), ("y", nn.Dense(1, 1))]))
    del seq[0]
    assert list(seq.name_cells()) == ["relu", "y"]
    assert names(seq) == ["y.weight", "y.bias"]


def test_append_in_a_network():
    net = Net()
    net.body.append(nn.Dense(2, 3))
    assert names(net)[4:6] == ["body.3.weight", "body.3.bias"]
    assert net.body(ms.Tensor(np.ones((1, 3), np.float32))).shape == (1, 3)


def test_append_to_a_nested_container_reads_its_prefix_from_the_names():
    # MindSpore infers a container's prefix from its Parameters' names; an empty container
    # attached to a network has none, so its cells are named '0.weight', not 'seq.0.weight'.
    class Holder(nn.Cell):
        def __init__(self):
            super().__init__()
            self.seq = nn.SequentialCell()
            self.layers = nn.CellList()

    holder = Holder()
    holder.seq.append(nn.Dense(1, 1))
    holder.layers.append(nn.Dense(1, 1))
    holder.layers.append(nn.Dense(1, 1))
    assert names(holder) == ["0.weight", "0.bias", "0.weight", "0.bias", "1.weight", "1.bias"]


def test_nested_sequential_cells_are_named_by_path():
    # MindSpore 2.10 names the appended Dense '0.1.weight' here (it misreads the repeated '0' in
    # '0.0.weight' as part of the prefix); msparam reads the prefix as the name minus the path.
    seq = nn.SequentialCell(nn.SequentialCell(nn.Dense(1, 1)))
    seq.append(nn.Dense(1, 1))
    assert names(seq) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_empty_sequential_cell_is_the_identity():
    x = ms.Tensor(np.arange(3, dtype=np.float32))
    assert nn.SequentialCell()(x) is x
    assert len(nn.SequentialCell([])) == 0


def test_same_cell_twice_runs_twice_and_has_one_set_of_parameters():
    dense = nn.Dense(2, 2, weight_init="ones", bias_init="zeros")
    seq = nn.SequentialCell(dense, dense)
    assert len(list(seq.get_parameters())) == 2 and names(seq) == ["1.weight", "1.bias"]
    np.testing.assert_array_equal(seq(ms.Tensor(np.ones((1, 2), np.float32))).asnumpy(), [[4.0, 4.0]])


def test_repr_lists_the_cells():
    assert repr(nn.SequentialCell(nn.ReLU())) == "SequentialCell<\n  (0): ReLU<>\n  >"


def test_set_train_reaches_the_cells():
    net = Net().set_train()
    assert net.body[0].training and net.heads[1].training


# --- CellList ------------------------------------------------------------------------------------
def test_cell_list_operations_and_names():
    layers = nn.CellList([nn.Dense(1, 1), nn.ReLU()])
    assert names(layers) == ["0.weight", "0.bias"]
    layers.append(nn.Dense(2, 2))
    layers.extend([nn.Dense(3, 3)])
    layers += [nn.Dense(4, 4)]
    layers.insert(0, nn.Dense(5, 5))
    layers.insert(len(layers), nn.Dense(6, 6))
    layers.insert(-1, nn.Dense(7, 7))
    assert [getattr(c, "in_channels", 0) for c in layers] == [5, 1, 0, 2, 3, 4, 7, 6]
    assert names(layers) == [f"{i}.{p}" for i in (0, 1, 3, 4, 5, 6, 7) for p in ("weight", "bias")]
    assert paths(layers) == names(layers) and len(layers) == 8


def test_cell_list_index_slice_set_and_delete():
    net = Net()
    assert net.heads[-1] is net.heads[1]
    net.heads[0] = nn.Dense(2, 5)
    assert net.heads[0].out_channels == 5 and names(net)[4:6] == ["heads.0.weight", "heads.0.bias"]
    del net.heads[0]
    assert [c.out_channels for c in net.heads] == [1]
    assert names(net)[4:] == ["heads.0.weight", "heads.0.bias"]
    layers = nn.CellList([nn.Dense(i, 1) for i in range(1, 5)])
    part = layers[1:3]
    assert type(part) is nn.CellList and list(part) == [layers[1], layers[2]]
    assert names(part) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # renamed by the new container
    del layers[::2]
    assert [c.in_channels for c in layers] == [2, 4] and names(layers) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_cell_list_insert_into_empty_and_its_arguments():
    layers = nn.CellList()
    layers.insert(0, nn.Dense(1, 1))
    assert names(layers) == ["0.weight", "0.bias"]
    assert not nn.CellList() and nn.CellList([nn.ReLU()])
    with pytest.raises(TypeError, match="should be instance of list, but got NoneType"):
        nn.CellList(None)  # as MindSpore 2.10
    with pytest.raises(TypeError, match="at most one list"):
        nn.CellList([nn.ReLU()], [nn.ReLU()])  # MindSpore silently keeps neither


def test_cell_list_without_auto_prefix_keeps_names():
    layers = nn.CellList([nn.Dense(1, 1), nn.Dense(1, 1)], auto_prefix=False)
    assert names(layers) == ["weight", "bias", "weight", "bias"]
    assert paths(layers) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_cell_list_is_not_callable_as_a_layer():
    with pytest.raises(NotImplementedError, match="CellList"):
        nn.CellList([nn.ReLU()])(ms.Tensor(np.ones(2, np.float32)))


# --- checkpoints ---------------------------------------------------------------------------------
def test_checkpoint_round_trip_with_container_names(tmp_path):
    ms.set_seed(1)
    source = Net()
    path = str(tmp_path / "net.ckpt")
    ms.save_checkpoint(source, path)
    loaded = ms.load_checkpoint(path)
    assert list(loaded) == list(source.parameters_dict())
    ms.set_seed(2)
    target = Net()
    assert not np.array_equal(target.body[0].weight.asnumpy(), source.body[0].weight.asnumpy())
    assert ms.load_param_into_net(target, loaded) == ([], [])
    for (name, want), got in zip(source.parameters_dict().items(), target.get_parameters()):
        assert got.name == name
        np.testing.assert_array_equal(got.asnumpy(), want.asnumpy())
    x = ms.Tensor(np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(target.body(x).asnumpy(), source.body(x).asnumpy())


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("arg, type_name", [({"a": nn.ReLU()}, "dict"), ((nn.ReLU(),), "tuple"), (5, "int"),
                                            (None, "NoneType")])
def test_sequential_cell_rejects_a_bad_single_argument(arg, type_name):
    message = f"For 'SequentialCell', the 'args[0]' must be Cell, list or orderedDict, but got {type_name}"
    with pytest.raises(TypeError, match=re.escape(message)):
        nn.SequentialCell(arg)


@pytest.mark.parametrize("make", [lambda d: nn.SequentialCell(d, 5), lambda d: nn.SequentialCell([d, None]),
                                  lambda d: nn.SequentialCell(OrderedDict([("d", d), ("x", "relu")]))])
def test_sequential_cell_rejects_non_cells_before_renaming(make):
    dense = nn.Dense(1, 1)
    with pytest.raises(TypeError, match=r"For 'SequentialCell', each cell must be subclass of Cell, but got \w+\."):
        make(dense)
    assert names(dense) == ["weight", "bias"]


@pytest.mark.parametrize("key, error", [(1, TypeError), ("", KeyError), ("a.b", KeyError), ("training", KeyError),
                                        ("append", KeyError), ("a b", ValueError), ("é", ValueError)])
def test_sequential_cell_rejects_bad_keys(key, error):
    dense = nn.Dense(1, 1)
    with pytest.raises(error, match="For 'SequentialCell'"):
        nn.SequentialCell(OrderedDict([("ok", dense), (key, nn.ReLU())]))
    assert names(dense) == ["weight", "bias"]


def test_index_errors():
    seq, layers = mlp(), nn.CellList([nn.ReLU(), nn.ReLU()])
    with pytest.raises(IndexError, match=re.escape("For 'SequentialCell', the value of 'index' must be a number "
                                                   "in range [-3, 3), but got 3.")):
        seq[3]
    with pytest.raises(IndexError, match=re.escape("[-3, 3), but got -4.")):
        del seq[-4]
    with pytest.raises(TypeError, match="For 'SequentialCell', the type of 'index' must be int, but got str."):
        seq["0"]
    with pytest.raises(TypeError, match="For 'SequentialCell', the type of 'index' must be int, but got int64."):
        seq[np.int64(0)]
    with pytest.raises(TypeError, match="For 'SequentialCell', the type of 'index' must be int, but got slice."):
        seq[0:1] = nn.ReLU()
    with pytest.raises(TypeError, match="For 'SequentialCell', the type of index must be int type or slice type, "
                                        "but got float"):
        del seq[1.0]
    with pytest.raises(IndexError, match=re.escape("For 'CellList', the value of 'index' must be a number in range "
                                                   "[-2, 2), but got 2.")):
        layers[2] = nn.ReLU()
    with pytest.raises(TypeError, match="For 'CellList', the type of 'index' must be int or slice, but got str."):
        layers["0"]
    with pytest.raises(TypeError, match="For 'CellList', the type of 'index' must be int or slice, but got float."):
        del layers[0.0]
    with pytest.raises(TypeError, match="For 'CellList', the type of 'index' must be int, but got str."):
        layers["0"] = nn.ReLU()
    with pytest.raises(IndexError, match=re.escape("For 'CellList', the value of 'index' must be a number in range "
                                                   "[-2, 2], but got 3.")):
        layers.insert(3, nn.ReLU())
    with pytest.raises(TypeError, match="For 'CellList', the type of 'index' must be int, but got str."):
        layers.insert("0", nn.ReLU())
    assert len(seq) == 3 and len(layers) == 2


@pytest.mark.parametrize("operation", [lambda c: c.append(5), lambda c: c.__setitem__(0, "relu"),
                                       lambda c: c.extend([nn.ReLU(), 5]), lambda c: c.insert(0, None)])
def test_cell_list_rejects_non_cells_and_stays_intact(operation):
    layers = nn.CellList([nn.Dense(1, 1), nn.ReLU()])
    before = list(layers)
    with pytest.raises(TypeError, match=r"For 'CellList', each cell must be subclass of Cell, but got \w+\."):
        operation(layers)
    assert list(layers) == before and names(layers) == ["0.weight", "0.bias"]


@pytest.mark.parametrize("cells", [(nn.ReLU(),), nn.ReLU()])
def test_cell_list_extend_takes_a_list(cells):
    message = "For 'CellList', the new cells wanted to append should be instance of list, but got "
    with pytest.raises(TypeError, match=re.escape(message)):
        nn.CellList(cells)
    layers = nn.CellList()
    with pytest.raises(TypeError, match=re.escape(message)):
        layers += cells
    assert len(layers) == 0


def test_sequential_cell_rejects_non_cells():
    seq = mlp()
    with pytest.raises(TypeError, match="For 'SequentialCell', each cell must be subclass of Cell, but got int."):
        seq.append(5)
    with pytest.raises(TypeError, match="For 'SequentialCell', each cell must be subclass of Cell, but got int."):
        seq[0] = 5
    assert len(seq) == 3 and names(seq) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_append_refuses_a_key_in_use():
    # A slice keeps its keys ('1', '2'); MindSpore would silently replace the cell under '2'.
    tail = mlp()[1:]
    with pytest.raises(KeyError, match="'2' is already the key of another cell"):
        tail.append(nn.ReLU())
    assert len(tail) == 2

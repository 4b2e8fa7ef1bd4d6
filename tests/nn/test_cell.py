"""Cell: registration by attribute, MindSpore's parameter naming, traversal, repr."""
import copy

import numpy as np
import pytest

import msparam as ms
from msparam import nn


class Block(nn.Cell):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 2, 3)
        self.scale = ms.Parameter(1.0, name="foo", requires_grad=False)

    def construct(self, x):
        return self.c1(x)


class Net(nn.Cell):
    def __init__(self, auto_prefix=True):
        super().__init__(auto_prefix)
        self.block = Block()
        self.fc = nn.Dense(2, 3)

    def construct(self, x):
        return self.fc(x)


def test_parameters_are_named_by_attribute_path():
    net = Net()
    # MindSpore renames each Parameter to its path when its cell is attached ('foo' -> 'block.scale').
    assert list(net.parameters_dict()) == ["block.scale", "block.c1.weight", "fc.weight", "fc.bias"]
    assert [name for name, _ in net.parameters_and_names()] == list(net.parameters_dict())
    assert net.block.c1.weight.name == "block.c1.weight"
    assert net.parameters_dict()["fc.weight"] is net.fc.weight


def test_auto_prefix_false_keeps_names():
    net = Net(auto_prefix=False)
    assert [p.name for p in net.get_parameters()] == ["foo", "c1.weight", "weight", "bias"]
    assert [name for name, _ in net.parameters_and_names()] == ["block.scale", "block.c1.weight", "fc.weight",
                                                                "fc.bias"]


def test_parameters_and_names_prefix_and_expand():
    net = Net()
    assert [name for name, _ in net.parameters_and_names("net")][:2] == ["net.block.scale", "net.block.c1.weight"]
    assert list(net.block.parameters_and_names(expand=False)) == [("scale", net.block.scale)]
    assert list(net.parameters_dict(recurse=False)) == []


def test_trainable_and_untrainable_params():
    net = Net()
    assert [p.name for p in net.trainable_params()] == ["block.c1.weight", "fc.weight", "fc.bias"]
    assert [p.name for p in net.untrainable_params()] == ["block.scale"]
    assert net.trainable_params(recurse=False) == []


def test_cells_and_names_name_cells_and_cells():
    net = Net()
    assert [name for name, _ in net.cells_and_names()] == ["", "block", "block.c1", "fc"]
    assert list(net.name_cells()) == ["block", "fc"]
    assert list(net.cells()) == [net.block, net.fc]


def test_shared_parameters_and_cells_are_listed_once():
    class Shared(nn.Cell):
        def __init__(self):
            super().__init__()
            self.a = nn.Dense(2, 2)
            self.b = self.a
            self.w = self.a.weight

    net = Shared()
    assert [name for name, _ in net.cells_and_names()] == ["", "a"]
    assert list(net.name_cells()) == ["a"]
    assert [name for name, _ in net.parameters_and_names()] == ["w", "a.bias"]
    assert list(net.get_parameters()) == [param for _, param in net.parameters_and_names()]
    assert list(net.get_parameters(expand=False)) == [net.w]


def test_parameters_dict_follows_parameters_and_names_through_shared_cells():
    """parameters_dict gathers in plain loops; its order must stay parameters_and_names' order,
    also when a cell is reached a second time deeper in the tree."""
    shared = nn.Dense(2, 2)

    class Inner(nn.Cell):
        def __init__(self, first):
            super().__init__()
            self.first = first
            self.own = nn.Dense(2, 2)

    class Outer(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = ms.Parameter(ms.Tensor(np.ones(1, np.float32)), name="w")
            self.left = Inner(nn.Dense(2, 2))
            self.again = shared
            self.right = Inner(shared)

    net = Outer()
    expected = [param for _, param in net.parameters_and_names()]
    assert len(expected) == 9
    assert list(net.parameters_dict().values()) == expected
    assert list(net.parameters_dict(recurse=False).values()) == [net.w]
    assert list(net.parameters_dict()) == [param.name for param in expected]


def test_unnamed_parameter_takes_attribute_name():
    cell = nn.Cell()
    cell.gamma = ms.Parameter(ms.Tensor(np.ones(3, np.float32)))
    assert cell.gamma.name == "gamma"
    cell.insert_param_to_cell("beta", ms.Parameter(0.5))
    assert cell.beta.name == "beta"
    assert list(cell.parameters_dict()) == ["gamma", "beta"]


@pytest.mark.parametrize("name, param, error", [
    ("", ms.Parameter(1.0), KeyError), ("a.b", ms.Parameter(1.0), KeyError), ("set_train", ms.Parameter(1.0), KeyError),
    ("plain", ms.Parameter(1.0), KeyError), ("p", ms.Tensor(1.0), TypeError), (1, ms.Parameter(1.0), TypeError),
    (None, ms.Parameter(1.0), KeyError), (0, ms.Parameter(1.0), KeyError)])
def test_insert_param_to_cell_errors(name, param, error):
    cell = nn.Cell()
    cell.plain = 3
    with pytest.raises(error, match="insert_param_to_cell"):
        cell.insert_param_to_cell(name, param)
    assert list(cell.parameters_dict()) == []


def test_insert_param_to_cell_allows_dots_when_asked_and_none():
    cell = nn.Cell()
    cell.insert_param_to_cell("a.b", ms.Parameter(1.0, name="x"), check_name_contain_dot=False)
    cell.insert_param_to_cell("empty", None)
    assert list(cell.parameters_and_names()) == [("a.b", cell._params["a.b"])]
    assert cell.empty is None


def test_insert_child_to_cell_does_not_rename():
    cell = nn.Cell()
    dense = nn.Dense(2, 2)
    cell.insert_child_to_cell("fc", dense)
    assert cell.fc is dense and dense.weight.name == "weight"
    assert [name for name, _ in cell.parameters_and_names()] == ["fc.weight", "fc.bias"]
    with pytest.raises(KeyError):
        cell.insert_child_to_cell("a.b", dense)
    with pytest.raises(TypeError):
        cell.insert_child_to_cell("x", 3)


def test_assigning_a_tensor_to_a_parameter_attribute_sets_its_data():
    net = nn.Dense(2, 2)
    weight = net.weight
    net.weight = ms.Tensor(np.full((2, 2), 7.0, np.float32))
    assert net.weight is weight and np.all(weight.asnumpy() == 7)
    with pytest.raises(TypeError, match="weight"):
        net.weight = 3
    assert np.all(weight.asnumpy() == 7)
    net.weight = None
    assert net.weight is None and list(net.parameters_dict()) == ["bias"]


def test_attribute_kind_conflicts_raise():
    # The classes MindSpore 2.10 raises: a sub-cell or Parameter name re-bound to the other kind is
    # a KeyError (insert_child_to_cell / insert_param_to_cell), to a plain value a TypeError.
    net = Net()
    with pytest.raises(TypeError, match="fc"):
        net.fc = 3
    with pytest.raises(KeyError, match="fc"):
        net.fc = ms.Parameter(1.0)
    with pytest.raises(KeyError, match="weight"):
        net.fc.weight = nn.Dense(1, 1)
    with pytest.raises(TypeError, match="weight"):
        net.fc.weight = 3
    assert list(net.fc.parameters_dict()) == ["fc.weight", "fc.bias"]
    net.fc = None
    assert net.fc is None and list(net.name_cells()) == ["block"]


def test_plain_attribute_becomes_a_parameter():
    net = Net()
    net.plain = 4
    net.plain = ms.Parameter(1.0)
    assert net.plain.name == "plain" and "plain" in net.parameters_dict()


def test_delattr_unregisters():
    net = Net()
    del net.fc
    del net.block.scale
    assert list(net.parameters_dict()) == ["block.c1.weight"]
    with pytest.raises(AttributeError):
        net.fc


def test_parameter_tuple_attribute_registers_its_parameters():
    cell = nn.Cell()
    cell.pair = ms.ParameterTuple([ms.Parameter(1.0, name="x"), ms.Parameter(2.0, name="y")])
    assert list(cell.parameters_dict()) == ["x", "y"]
    assert isinstance(cell.pair, ms.ParameterTuple)


def test_update_parameters_name():
    net = Net()
    net.update_parameters_name("model.")
    assert list(net.parameters_dict())[:2] == ["model.block.scale", "model.block.c1.weight"]
    with pytest.raises(ValueError, match="prefix"):
        net.update_parameters_name("bad prefix!")
    with pytest.raises(TypeError, match="prefix"):
        net.update_parameters_name(1)


def test_registration_before_init_raises():
    class Early(nn.Cell):
        def __init__(self):
            self.w = ms.Parameter(1.0)

    with pytest.raises(AttributeError, match="Cell.__init__"):
        Early()


def test_call_runs_construct_and_missing_construct_raises():
    net = Net()
    out = net(ms.Tensor(np.ones((1, 2), np.float32)))
    assert out.shape == (1, 3)
    # MindSpore 2.10: AttributeError "For 'Cell', the method 'construct' is not defined."
    with pytest.raises(AttributeError, match="'construct' is not defined"):
        nn.Cell()(1)

    class NoConstruct(nn.Cell):
        pass

    with pytest.raises(AttributeError, match="'NoConstruct'.*'construct'"):
        NoConstruct()()


def test_cell_without_cell_init_raises_attribute_error():
    class NoSuper(nn.Cell):
        def __init__(self):
            self.plain = 1

        def construct(self, x):
            return x

    cell = NoSuper()
    for use in (lambda: cell(1), lambda: list(cell.parameters_dict()), lambda: repr(cell),
                lambda: setattr(cell, "w", ms.Parameter(1.0, name="w")), lambda: setattr(cell, "c", nn.ReLU()),
                lambda: setattr(cell, "t", ms.ParameterTuple([ms.Parameter(1.0, name="w")]))):
        with pytest.raises(AttributeError):
            use()


def test_set_train_reaches_every_cell():
    net = Net().set_train()
    assert all(cell.training for _, cell in net.cells_and_names())
    net.set_train(False)
    assert not any(cell.training for _, cell in net.cells_and_names())


def test_repr_follows_mindspore_layout():
    class Small(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(3, 4, activation="relu")
            self.head = nn.Dense(4, 1, has_bias=False)

    assert repr(Small()) == (
        "Small<\n"
        "  (fc): Dense<\n"
        "    input_channels=3, output_channels=4, has_bias=True, activation=ReLU<>\n"
        "    (activation): ReLU<>\n"
        "    >\n"
        "  (head): Dense<input_channels=4, output_channels=1>\n"
        "  >")
    assert str(nn.Conv2d(3, 64, 3)) == (
        "Conv2d<input_channels=3, output_channels=64, kernel_size=(3, 3), stride=(1, 1), pad_mode=same, "
        "padding=0, dilation=(1, 1), group=1, has_bias=False, weight_init=normal, bias_init=zeros, format=NCHW>")


def test_deepcopy_is_independent_and_keeps_names():
    net = Net()
    clone = copy.deepcopy(net)
    assert list(clone.parameters_dict()) == list(net.parameters_dict())
    clone.fc.weight.set_data(ms.Tensor(np.zeros((3, 2), np.float32)))
    assert not np.all(net.fc.weight.asnumpy() == 0)


def test_none_attribute_becomes_a_parameter_and_failures_keep_it():
    class Holder(nn.Cell):
        def construct(self, x):
            return x

    cell = Holder()
    cell.slot = None
    cell.slot = ms.Parameter(1.0)
    assert cell.slot.name == "slot" and list(cell.parameters_dict()) == ["slot"]
    setattr(cell, "a.b", None)
    with pytest.raises(KeyError):
        setattr(cell, "a.b", ms.Parameter(1.0))
    assert cell.__dict__["a.b"] is None and list(cell.parameters_dict()) == ["slot"]


def test_register_layer_parameters_registers_parameters_and_plain_nones():
    cell = nn.Cell()
    weight = ms.Parameter(np.ones(2, np.float32), name="weight")
    cell._register_layer_parameters(weight=weight, bias=None)
    assert cell.weight is weight and cell.bias is None
    assert list(cell.parameters_dict()) == ["weight"]
    cell.bias = 3  # a plain attribute, not a Parameter slot
    assert cell.bias == 3


def _parameters(count, named=()):
    return [ms.Parameter(ms.Tensor(np.ones(i + 1, np.float32)), name=named[i] if i < len(named) else None)
            for i in range(count)]


class _TupleCell(nn.Cell):
    def __init__(self, params):
        super().__init__()
        self.pt = ms.ParameterTuple(params)

    def construct(self, x):
        return x


def test_parameter_tuple_attribute_names_unnamed_parameters_per_cell():
    # MindSpore 2.10: Parameter$1, Parameter$2, ... counted per cell, across its ParameterTuples.
    cell = _TupleCell(_parameters(2) + [ms.Parameter(1.0, name="n")])
    assert [p.name for p in cell.pt] == ["Parameter$1", "Parameter$2", "n"]
    assert list(cell.parameters_dict()) == ["Parameter$1", "Parameter$2", "n"]
    cell.more = ms.ParameterTuple(_parameters(1))
    assert list(cell.parameters_dict())[-1] == "Parameter$3"

    class Outer(nn.Cell):
        def __init__(self):
            super().__init__()
            self.s1 = _TupleCell(_parameters(2))
            self.s2 = _TupleCell(_parameters(2))

        def construct(self, x):
            return x

    assert list(Outer().parameters_dict()) == ["s1.Parameter$1", "s1.Parameter$2", "s2.Parameter$1",
                                               "s2.Parameter$2"]


def test_plain_tuples_and_lists_of_parameters_are_not_registered():
    cell = nn.Cell()
    cell.t = tuple(_parameters(2, named=("a", "b")))
    cell.l = _parameters(1, named=("c",))
    assert list(cell.parameters_dict()) == [] and isinstance(cell.t, tuple) and isinstance(cell.l, list)
    # As MindSpore, a name seen in such an attribute may not come back in another one.
    with pytest.raises(ValueError, match="'b'"):
        cell.u = _parameters(1, named=("b",))
    cell.v = tuple(_parameters(2))  # unnamed Parameters are distinct


def test_apply_visits_children_first_and_returns_the_cell():
    net = Net()
    seen = []
    assert net.apply(lambda cell: seen.append(type(cell).__name__)) is net
    assert seen[-1] == "Net" and seen.count("Dense") == 1 and len(seen) == len(list(net.cells_and_names()))


def test_init_parameters_data_maps_each_parameter_to_itself():
    cell = _TupleCell(_parameters(2))
    cell.w = ms.Parameter(2.0, name="w")
    replaced = cell.init_parameters_data()
    assert list(replaced) == list(cell.get_parameters()) and all(k is v for k, v in replaced.items())
    assert cell.init_parameters_data(auto_parallel_mode=True) == {}


def test_set_seed_from_msparam_common():
    from msparam.common import get_seed, set_seed
    set_seed(12)
    assert get_seed() == 12 and set_seed is ms.set_seed


@pytest.mark.parametrize("prefix, names", [("", ["weight", "bias"]), ("-", ["-weight", "-bias"]),
                                           ("a-b.", ["a-b.weight", "a-b.bias"]), (".a", [".aweight", ".abias"])])
def test_update_parameters_name_accepts_mindspore_prefixes(prefix, names):
    dense = nn.Dense(1, 1)
    dense.update_parameters_name(prefix)
    assert [p.name for p in dense.get_parameters()] == names


@pytest.mark.parametrize("prefix", ["a b", "é", "a/b", "a:b", "a$"])
def test_update_parameters_name_refuses_other_characters(prefix):
    with pytest.raises(ValueError, match="illegal|must match"):
        nn.Dense(1, 1).update_parameters_name(prefix)

"""Which error a bad save_checkpoint / load_checkpoint call gives first, as MindSpore 2.10 (its
arguments, then the file), and what msparam's prefixes and names do for safetensors; all found by
the differential run against MindSpore 2.10 (tests/differential/)."""
import numpy as np
import pytest

import msparam as ms
from msparam.common.parameter import Parameter
from msparam.common.tensor import Tensor


def params():
    return [Parameter(Tensor(np.arange(4.0).reshape(2, 2)), name="w"),
            Parameter(Tensor(np.array([1, 2], np.int8)), name="b")]


@pytest.mark.parametrize("arguments, error", [
    (dict(filter_prefix=1), TypeError), (dict(specify_prefix=[]), ValueError), (dict(choice_func=1), TypeError),
    (dict(crc_check=1), ValueError), (dict(remove_redundancy=1), ValueError), (dict(dec_key="k"), ValueError),
    (dict(format="x"), ValueError), (dict(strict_load=1), ValueError)])
def test_load_checks_its_arguments_before_the_file(tmp_path, arguments, error):
    # strict_load is load_param_into_net's to check: a missing file is reported first.
    with pytest.raises(error) as raised:
        ms.load_checkpoint(str(tmp_path / "missing.ckpt"), **arguments)
    assert ("does not exist" in str(raised.value)) == ("strict_load" in arguments)


class OneParameterNet:
    def __init__(self):
        self.w = Parameter(Tensor(np.zeros((2, 2))), name="w")

    def parameters_and_names(self):
        return [("w", self.w)]


def test_strict_load_is_checked_only_with_a_net(tmp_path):
    # As MindSpore 2.10: load_param_into_net checks it, after the file is read.
    path = str(tmp_path / "net.ckpt")
    ms.save_checkpoint(params(), path)
    assert list(ms.load_checkpoint(path, strict_load=1)) == ["w", "b"]
    net = OneParameterNet()
    with pytest.raises(TypeError, match="strict_load"):
        ms.load_checkpoint(path, net=net, strict_load=1)
    assert not net.w.asnumpy().any()


def test_a_dict_is_checked_after_choice_func_and_may_hold_arrays(tmp_path):
    # MindSpore 2.10 checks only the values choice_func keeps, and takes NumPy arrays as values.
    path = str(tmp_path / "net.ckpt")
    ms.save_checkpoint({"w": np.ones(2, np.float32), "x": 1}, path, choice_func=lambda name: name == "w")
    assert [(key, p.asnumpy().tolist()) for key, p in ms.load_checkpoint(path).items()] == [("w", [1.0, 1.0])]
    with pytest.raises(TypeError, match="values Parameter"):
        ms.save_checkpoint({"w": np.ones(2, np.float32), "x": 1}, path)


@pytest.mark.parametrize("save_obj, arguments, error", [
    (params(), dict(async_save=1), TypeError), (params(), dict(crc_check=1), ValueError),
    ([{"name": 1, "data": Tensor(1.0)}], {}, TypeError), ({"w": 1}, {}, TypeError),
    (params(), dict(format="safetensors", incremental=1), ValueError), (params(), {}, FileNotFoundError)])
def test_save_checks_its_arguments_and_entries_before_the_directory(tmp_path, save_obj, arguments, error):
    suffix = arguments.get("format", "ckpt")
    with pytest.raises(error) as raised:
        ms.save_checkpoint(save_obj, str(tmp_path / "sub" / f"net.{suffix}"), **arguments)
    if error is FileNotFoundError:
        assert "directory of 'ckpt_file_name'" in str(raised.value) and str(tmp_path / "sub") in str(raised.value)
    assert not list(tmp_path.iterdir())


def test_safetensors_entries_are_named_by_their_keys_and_selected_by_prefix(tmp_path):
    # MindSpore 2.10 returns unnamed Parameters (Parameter#N) and ignores both prefixes for safetensors.
    path = str(tmp_path / "net.safetensors")
    ms.save_checkpoint(params(), path, format="safetensors")
    loaded = ms.load_checkpoint(path, format="safetensors")
    assert [(key, p.name) for key, p in loaded.items()] == [("b", "b"), ("w", "w")]
    assert list(ms.load_checkpoint(path, format="safetensors", specify_prefix="w")) == ["w"]
    assert list(ms.load_checkpoint(path, format="safetensors", filter_prefix=["w"])) == ["b"]
    with pytest.raises(ValueError, match="empty after filter or specify"):
        ms.load_checkpoint(path, format="safetensors", specify_prefix="x")

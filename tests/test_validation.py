"""msparam._validation: the bool, real-number and shape checks every package shares."""
import fractions

import numpy as np
import pytest

from msparam._validation import BOOL, FLOAT_OR_INT, check_bool, check_real, check_shape


def test_check_bool_uses_the_template():
    assert check_bool(False, "has_bias", "Dense") is False
    with pytest.raises(TypeError, match=r"^For 'Dense', the 'has_bias' must be a bool, but got int\.$"):
        check_bool(1, "has_bias", "Dense")
    with pytest.raises(TypeError, match=r"^`x` is not bool: NoneType$"):
        check_bool(None, "x", message="`{arg}` is not bool: {type}")
    with pytest.raises(TypeError):
        check_bool(np.bool_(True), "x", "f", BOOL)  # a NumPy bool is not a bool, as in MindSpore


@pytest.mark.parametrize("value", [0, -3, 2.5, np.float32(1.5), np.int64(7), fractions.Fraction(1, 3), True])
def test_check_real_returns_real_numbers_unchanged(value):
    assert check_real(value, "gain", "XavierUniform") is value


@pytest.mark.parametrize("value", ["1", None, [1.0], 1j, np.ones(2)])
def test_check_real_refuses_other_types(value):
    with pytest.raises(TypeError, match=r"^For 'XavierUniform', 'gain' must be a real number, but got "):
        check_real(value, "gain", "XavierUniform")


def test_check_real_can_refuse_bools():
    assert check_real(3, "alpha", "LeakyReLU", FLOAT_OR_INT, allow_bool=False) == 3
    with pytest.raises(TypeError, match=r"^For 'LeakyReLU', the 'alpha' must be float or int, but got 'bool'\.$"):
        check_real(True, "alpha", "LeakyReLU", FLOAT_OR_INT, allow_bool=False)


@pytest.mark.parametrize("shape, minimum, expected", [(3, 1, (3,)), ([2, 3], 1, (2, 3)), ((np.int64(2), 0), 0, (2, 0)),
                                                      ((), 1, ()), (0, 0, (0,))])
def test_check_shape_accepts(shape, minimum, expected):
    got = check_shape(shape, minimum, "type {shape!r}", "range {shape!r}")
    assert got == expected and all(type(d) is int for d in got)


@pytest.mark.parametrize("shape, minimum, error, text", [
    ((2, 0), 1, ValueError, "range (2, 0)"), ([2, -1], 0, ValueError, "range [2, -1]"),
    ((2, True), 0, TypeError, "type (2, True)"), ((2.0, 3), 0, TypeError, "type (2.0, 3)"),
    ("ab", 0, TypeError, "type 'ab'"), (None, 0, TypeError, "type None")])
def test_check_shape_refuses(shape, minimum, error, text):
    with pytest.raises(error) as raised:
        check_shape(shape, minimum, "type {shape!r}", "range {shape!r}")
    assert str(raised.value) == text


def test_check_shape_type_error_class_is_a_parameter():
    with pytest.raises(ValueError, match="type"):
        check_shape((2.0,), 1, "type {shape!r}", "range {shape!r}", type_error=ValueError)

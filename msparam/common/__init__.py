"""MindSpore's ``mindspore.common``: dtype, Tensor, Parameter, ParameterTuple (initializer and seed load on use)."""
from msparam.common import dtype
from msparam.common.parameter import Parameter, ParameterTuple
from msparam.common.tensor import Tensor

__all__ = ["dtype", "Tensor", "Parameter", "ParameterTuple"]

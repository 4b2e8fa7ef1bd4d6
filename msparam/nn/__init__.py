"""MindSpore's ``mindspore.nn``: Cell, its containers, the layers that own parameters, and activations."""
from msparam.nn.activation import (ELU, GELU, FastGelu, Hardtanh, HShrink, HSigmoid, HSwish, LeakyReLU, LogSigmoid,
                                   LogSoftmax, Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin, SoftShrink,
                                   Softsign, Tanh, Tanhshrink, get_activation)
from msparam.nn.cell import Cell
from msparam.nn.container import CellList, SequentialCell
from msparam.nn.layers import Conv2d, Dense, ParameterUpdate

__all__ = ["Cell", "SequentialCell", "CellList", "Dense", "Conv2d", "ParameterUpdate", "get_activation", "Softmin",
           "Softmax", "LogSoftmax", "ReLU", "ReLU6", "SiLU", "Tanh", "Tanhshrink", "Hardtanh", "GELU", "FastGelu",
           "ELU", "Sigmoid", "Softsign", "LeakyReLU", "HSwish", "HSigmoid", "LogSigmoid", "SoftShrink", "HShrink",
           "Mish"]

"""MindSpore's ``mindspore.nn``: Cell, its containers, the layers that own parameters, and activations."""
from msparam.nn.activation import (ELU, GELU, FastGelu, Hardtanh, HShrink, HSigmoid, HSwish, LeakyReLU, LogSigmoid,
                                   LogSoftmax, LogSoftmaxExt, Mish, PReLU, PReLUExt, ReLU, ReLU6, RReLU, Sigmoid, SiLU,
                                   Softmax, Softmax2d, Softmin, SoftShrink, Softsign, Tanh, Tanhshrink, Threshold,
                                   get_activation)
from msparam.nn.cell import Cell
from msparam.nn.container import CellList, SequentialCell
from msparam.nn.layers import Conv2d, Dense, ParameterUpdate

__all__ = ["Cell", "SequentialCell", "CellList", "Dense", "Conv2d", "ParameterUpdate", "get_activation", "Softmin",
           "Softmax", "Softmax2d", "LogSoftmax", "LogSoftmaxExt", "ReLU", "ReLU6", "RReLU", "SiLU", "Tanh",
           "Tanhshrink", "Hardtanh", "GELU", "FastGelu", "ELU", "Sigmoid", "Softsign", "PReLU", "PReLUExt",
           "LeakyReLU", "HSwish", "HSigmoid", "LogSigmoid", "SoftShrink", "HShrink", "Threshold", "Mish"]

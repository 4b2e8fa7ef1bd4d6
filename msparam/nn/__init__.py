"""MindSpore's ``mindspore.nn``: Cell and the layers that own parameters."""
from msparam.nn.cell import Cell
from msparam.nn.layers import Conv2d, Dense, ParameterUpdate

__all__ = ["Cell", "Dense", "Conv2d", "ParameterUpdate"]

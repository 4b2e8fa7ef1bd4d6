"""Cell: the base of layers. Parameters and sub-cells register by attribute assignment."""
from collections import OrderedDict

from msparam.common.parameter import Parameter, PARAMETER_NAME_DEFAULT

__all__ = ["Cell"]


class Cell:
    """Base class of layers: owns Parameters and sub-Cells; calling it runs ``construct``."""

    def __init__(self, auto_prefix=True):
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_cells", OrderedDict())
        object.__setattr__(self, "_auto_prefix", auto_prefix)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_params")
        if params is None:
            if isinstance(value, (Parameter, Cell)):
                raise AttributeError(f"For '{type(self).__name__}', call Cell.__init__() before assigning '{name}'.")
            object.__setattr__(self, name, value)
            return
        if isinstance(value, Parameter):
            self.insert_param_to_cell(name, value)
        elif isinstance(value, Cell):
            if self._auto_prefix:
                for param in value.get_parameters():
                    param.name = f"{name}.{param.name}"
            self._params.pop(name, None)
            self._cells[name] = value
        else:
            if name in params and value is not None:
                raise TypeError(f"For '{type(self).__name__}', '{name}' is a Parameter; assign a Parameter, "
                                f"not {type(value).__name__}.")
            params.pop(name, None)
            self._cells.pop(name, None)
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for table in ("_params", "_cells"):
            found = self.__dict__.get(table, {}).get(name)
            if found is not None:
                return found
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._params:
            del self._params[name]
        elif name in self._cells:
            del self._cells[name]
        else:
            object.__delattr__(self, name)

    def insert_param_to_cell(self, param_name, param, check_name_contain_dot=True):
        """Register ``param`` under ``param_name``; an unnamed Parameter takes that name."""
        if not isinstance(param_name, str) or not param_name:
            raise KeyError(f"For 'insert_param_to_cell', 'param_name' must be a non-empty str, but got {param_name!r}.")
        if check_name_contain_dot and "." in param_name:
            raise KeyError(f"For 'insert_param_to_cell', 'param_name' must not contain '.', but got {param_name!r}.")
        if not isinstance(param, Parameter) and param is not None:
            raise TypeError(f"For 'insert_param_to_cell', 'param' must be a Parameter, but got {type(param).__name__}.")
        if param is not None and param.name == PARAMETER_NAME_DEFAULT:
            param.name = param_name
        self._cells.pop(param_name, None)
        self._params[param_name] = param

    def construct(self, *args, **kwargs):
        raise NotImplementedError(f"'{type(self).__name__}' must define construct().")

    def __call__(self, *args, **kwargs):
        return self.construct(*args, **kwargs)

    def cells_and_names(self, cells=None, name_prefix=""):
        """Yield (name, cell) for this cell and every sub-cell, depth first, each cell once."""
        seen = set() if cells is None else cells
        if id(self) in seen:
            return
        seen.add(id(self))
        yield name_prefix, self
        for name, cell in self._cells.items():
            if cell is not None:
                yield from cell.cells_and_names(seen, f"{name_prefix}.{name}" if name_prefix else name)

    def parameters_and_names(self, name_prefix="", expand=True):
        """Yield (name, Parameter) for every Parameter, each once; names are the Parameters' own."""
        seen = set()
        cells = self.cells_and_names() if expand else [("", self)]
        for _, cell in cells:
            for param in cell._params.values():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{name_prefix}.{param.name}" if name_prefix else param.name), param

    def get_parameters(self, expand=True):
        return (param for _, param in self.parameters_and_names(expand=expand))

    def parameters_dict(self, recurse=True):
        """OrderedDict name -> Parameter."""
        return OrderedDict(self.parameters_and_names(expand=recurse))

    def trainable_params(self, recurse=True):
        return [p for p in self.get_parameters(expand=recurse) if p.requires_grad]

    def untrainable_params(self, recurse=True):
        return [p for p in self.get_parameters(expand=recurse) if not p.requires_grad]

    def extend_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}<{self.extend_repr()}>"]
        if self._cells:
            lines[0] = lines[0][:-1]
            for name, cell in self._cells.items():
                child = repr(cell).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            lines.append("  >")
        return "\n".join(lines)

"""Cell: the base of layers. Parameters and sub-cells register by attribute assignment."""
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence, ValuesView
from typing import TYPE_CHECKING, Any, TypeVar

from msparam.common.parameter import Parameter, ParameterTuple
from msparam.common.tensor import Tensor

__all__ = ["Cell"]

# MindSpore 2.10's update_parameters_name check (re.match, ASCII): empty and '-' are allowed.
_PREFIX_PATTERN = re.compile(r"^\w*[0-9a-zA-Z\_\.\-]*$", re.ASCII)
# MindSpore's name for the unnamed Parameters of a ParameterTuple attribute, numbered per cell.
_TUPLE_PARAMETER_PREFIX = "Parameter$"

_CellT = TypeVar("_CellT", bound="Cell")


class Cell:
    """Base class of layers and networks, as MindSpore's ``mindspore.nn.Cell``.

    Parameters
    ----------
    auto_prefix : bool, default True
        When a cell is assigned as an attribute of this one, rename its Parameters to
        ``attribute.path.name`` (``block.c1.weight``).
    flags : dict, optional
        Attributes to set on the cell (MindSpore's ``add_flags``).

    Notes
    -----
    Assigning a :class:`Parameter` to an attribute registers it (an unnamed Parameter takes the
    attribute's name); assigning a :class:`ParameterTuple` registers each of its Parameters under
    its name (unnamed ones become ``Parameter$1``, ``Parameter$2``, ... numbered per cell, as in
    MindSpore); a plain tuple or list of Parameters is kept as an attribute, not registered;
    assigning a Cell registers it as a sub-cell; assigning a Tensor to a Parameter attribute sets
    the Parameter's values. A Parameter's name is its attribute path at
    the time its cell was attached: ``parameters_and_names`` yields the current paths,
    ``parameters_dict`` keys by ``Parameter.name``.
    Calling a cell runs :meth:`construct`.

    Examples
    --------
    >>> class Net(Cell):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = Dense(3, 4)
    ...     def construct(self, x):
    ...         return self.fc(x)
    >>> list(Net().parameters_dict())
    ['fc.weight', 'fc.bias']
    """

    _params: "OrderedDict[str, Parameter | None]"
    _cells: "OrderedDict[str, Cell | None]"
    _auto_prefix: bool
    training: bool

    def __init__(self, auto_prefix: bool = True, flags: "dict[str, Any] | None" = None) -> None:
        # Bypasses __setattr__: the tables it consults do not exist yet.
        state = self.__dict__
        state["_params"] = OrderedDict()
        state["_cells"] = OrderedDict()
        state["_auto_prefix"] = auto_prefix
        state["training"] = False
        if flags:
            state.update(flags)

    @property
    def cls_name(self) -> str:
        return type(self).__name__

    # --- attribute registration ----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__
        params = state.get("_params")
        if params is None:
            if isinstance(value, (Parameter, ParameterTuple)):
                raise AttributeError("For 'insert_param_to_cell', please call Cell.__init__() first.")
            if isinstance(value, Cell):
                raise AttributeError(f"For '{self.cls_name}', can not assign the Cell '{name}' before "
                                     f"Cell.__init__() is called.")
            object.__setattr__(self, name, value)
        elif isinstance(value, Parameter):
            if name in state["_cells"]:
                raise KeyError(f"For 'insert_param_to_cell', '{name}' is already a child cell of "
                               f"'{self.cls_name}'; cannot insert a parameter with the same name.")
            if name not in state:
                self.insert_param_to_cell(name, value)
                return
            previous = state.pop(name)  # a plain attribute becomes the Parameter, as in MindSpore
            try:
                self.insert_param_to_cell(name, value)
            except (KeyError, TypeError):
                state[name] = previous
                raise
        elif isinstance(value, ParameterTuple):
            self._set_parameter_tuple(name, value)
        elif _is_parameter_sequence(value):
            self._set_parameter_sequence(name, value)
        elif isinstance(value, Cell):
            self._set_cell(name, value)
        elif name in params:
            self._assign_to_parameter(name, value)
        elif name in state["_cells"]:
            if value is not None:
                raise TypeError(f"For '{self.cls_name}', the type of '{name}' must be Cell, "
                                f"but got {type(value).__name__}.")
            state["_cells"][name] = None
        else:
            object.__setattr__(self, name, value)

    def _set_parameter_tuple(self, name: str, value: ParameterTuple) -> None:
        """Register the Parameters of a ParameterTuple attribute, naming unnamed ones as MindSpore does."""
        state = self.__dict__
        seen_ids: set[int] = set()
        seen_names: set[str] = set()
        for param in value:
            if id(param) in seen_ids:
                continue
            seen_ids.add(id(param))
            if param.has_generated_name:
                serial = state.get("_tuple_parameter_serial", 1)
                state["_tuple_parameter_serial"] = serial + 1
                param.name = f"{_TUPLE_PARAMETER_PREFIX}{serial}"
            if param.name in seen_names:
                raise ValueError(f"The value {value}, its name '{param.name}' already exists. Please set a unique "
                                 f"name for the parameter.")
            seen_names.add(param.name)
            self.insert_param_to_cell(param.name, param, check_name_contain_dot=False)
        state.pop(name, None)
        object.__setattr__(self, name, value)

    def _set_parameter_sequence(self, name: str, value: "Sequence[Parameter]") -> None:
        """A plain tuple/list of Parameters stays an attribute; as MindSpore, its names must not repeat
        names seen in earlier such attributes of this cell (the same Parameter may recur)."""
        state = self.__dict__
        # Held by identity (and kept alive, so that an id is never reused), as MindSpore's exist_objs.
        seen = state.setdefault("_sequence_parameters", {})
        seen_names = state.setdefault("_sequence_parameter_names", set())
        for param in value:
            if id(param) in seen:
                continue
            seen[id(param)] = param
            if param.has_generated_name:  # unnamed Parameters are distinct, as MindSpore's Parameter#N
                continue
            if param.name in seen_names:
                raise ValueError(f"The value {value}, its name '{param.name}' already exists. Please set a unique "
                                 f"name for the parameter.")
            seen_names.add(param.name)
        object.__setattr__(self, name, value)

    def _set_cell(self, name: str, value: "Cell") -> None:
        if name in self._params:
            raise KeyError(f"For 'insert_child_to_cell', '{name}' is already a parameter of '{self.cls_name}'; "
                           f"cannot insert a child cell with the same name.")
        self.__dict__.pop(name, None)
        if self._auto_prefix:
            value._rename_parameters(name + ".")
        self._cells[name] = value

    def _assign_to_parameter(self, name: str, value: object) -> None:
        param = self._params[name]
        if isinstance(value, Tensor) and param is not None:
            param.set_data(value)
        elif value is None:
            self._params[name] = None
        else:
            raise TypeError(f"For '{self.cls_name}', the type of '{name}' must be Parameter or ParameterTuple, "
                            f"but got {type(value).__name__}.")

    # Hidden from type checkers: they see the attributes a cell assigns (self.fc = Dense(...)) with
    # their own types, and report a misspelled one instead of taking it for a registered name.
    if not TYPE_CHECKING:
        def __getattr__(self, name):
            # Only reached when normal lookup fails: registered Parameters and cells live in tables.
            state = self.__dict__
            params = state.get("_params")
            if params is not None and name in params:
                return params[name]
            cells = state.get("_cells")
            if cells is not None and name in cells:
                return cells[name]
            raise AttributeError(f"The '{type(self).__name__}' object has no attribute '{name}'.")

    def __delattr__(self, name: str) -> None:
        if name in self._params:
            del self._params[name]
        elif name in self._cells:
            del self._cells[name]
        else:
            object.__delattr__(self, name)

    def insert_param_to_cell(self, param_name: str, param: "Parameter | None",
                             check_name_contain_dot: bool = True) -> None:
        """Register ``param`` (a Parameter or None) under ``param_name``.

        An unnamed Parameter (named ``'Parameter'``) takes ``param_name`` as its name.

        Raises
        ------
        KeyError
            If ``param_name`` is empty, contains '.' (with ``check_name_contain_dot``), or names an
            attribute that is not a Parameter.
        TypeError
            If ``param`` is neither a Parameter nor None.
        """
        if not param_name:
            raise KeyError(f"For 'insert_param_to_cell', the argument 'param_name' must be a non-empty str, "
                           f"but got {param_name!r}.")
        if not isinstance(param_name, str):
            raise TypeError(f"For 'insert_param_to_cell', the argument 'param_name' must be str, "
                            f"but got {type(param_name).__name__}.")
        if check_name_contain_dot and "." in param_name:
            raise KeyError(f"For 'insert_param_to_cell', the argument 'param_name' should not contain '.', "
                           f"but got {param_name!r}.")
        state = self.__dict__
        params = state.get("_params")
        if params is None:
            raise AttributeError("For 'insert_param_to_cell', please call Cell.__init__() first.")
        if param_name not in params and (param_name in state or param_name in state["_cells"]
                                         or hasattr(type(self), param_name)):
            raise KeyError(f"For 'insert_param_to_cell', the attribute '{param_name}' already exists in the "
                           f"network; cannot insert a parameter with the same name.")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"For 'insert_param_to_cell', the argument 'param' must be a Parameter or None, "
                            f"but got {type(param).__name__}.")
        if param is not None and param.has_generated_name:
            param.name = param_name
        params[param_name] = param

    def _register_layer_parameters(self, **parameters: "Parameter | None") -> None:
        """Register a layer's own Parameters from its ``__init__``, without ``__setattr__``'s checks.

        For a fresh layer, whose attributes cannot clash yet (construction is a hot path): each
        Parameter is registered under its keyword, a None becomes a plain attribute (a layer
        without bias has ``bias = None``).
        """
        state = self.__dict__
        params = state["_params"]
        for name, param in parameters.items():
            if param is None:
                state[name] = None
            else:
                params[name] = param

    def insert_child_to_cell(self, child_name: str, child_cell: "Cell | None") -> None:
        """Register ``child_cell`` (a Cell or None) under ``child_name``, without renaming its Parameters."""
        if not isinstance(child_name, str):
            raise TypeError(f"For 'insert_child_to_cell', the argument 'child_name' must be str, "
                            f"but got {type(child_name).__name__}.")
        if not child_name or "." in child_name:
            raise KeyError(f"For 'insert_child_to_cell', the argument 'child_name' must be a non-empty str "
                           f"without '.', but got {child_name!r}.")
        if child_name not in self._cells and (child_name in self.__dict__ or hasattr(type(self), child_name)):
            raise KeyError(f"For 'insert_child_to_cell', the attribute '{child_name}' already exists in the "
                           f"network; cannot insert a child cell with the same name.")
        if child_cell is not None and not isinstance(child_cell, Cell):
            raise TypeError(f"For 'insert_child_to_cell', the argument 'child_cell' must be a Cell or None, "
                            f"but got {type(child_cell).__name__}.")
        self._cells[child_name] = child_cell

    # --- running -------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run :meth:`construct`, the computation subclasses define.

        Raises
        ------
        AttributeError
            If the cell defines no ``construct`` or its ``__init__`` skipped ``Cell.__init__()``,
            as in MindSpore.
        """
        if "_params" not in self.__dict__:
            raise AttributeError(f"For '{self.cls_name}', Cell.__init__() must be called (super().__init__()) "
                                 f"before the cell is used.")
        construct = getattr(self, "construct", None)
        if construct is None:
            raise AttributeError(f"For '{self.cls_name}', the method 'construct' is not defined.")
        return construct(*args, **kwargs)

    def apply(self: _CellT, fn: "Callable[[Cell], object]") -> _CellT:
        """Call ``fn(cell)`` on every sub-cell (depth first, children before parents) and this cell;
        returns this cell."""
        for cell in self.cells():
            cell.apply(fn)
        fn(self)
        return self

    def init_parameters_data(self, auto_parallel_mode: bool = False, *,
                             layouts: "dict[str, tuple[Any, ...]] | None" = None) -> "dict[Parameter, Parameter]":
        """Draw the values of every lazy Parameter; returns ``{old Parameter: new Parameter}``.

        Parameters
        ----------
        auto_parallel_mode : bool, default False
            Only the Parameters of the parallel plan: those named in ``layouts``.
        layouts : dict, optional
            Parameter name -> MindSpore layout tuple (an msparam addition): those Parameters get
            only this rank's slice (``Parameter.init_data(layout, set_sliced=True)``), the
            others their full tensor.

        Raises
        ------
        TypeError
            If ``layouts`` is not a dict, or a layout is not a tuple.
        ValueError
            If ``layouts`` names no Parameter of this cell, or a layout does not fit its
            Parameter; checked for every Parameter before any is drawn.

        Notes
        -----
        Outside parallel mode a Parameter is drawn when it is created, so each maps to itself, as
        an already initialised one does in MindSpore; msparam's ``init_data`` fills in place, so
        old and new are the same object in parallel mode too.
        """
        from msparam.parallel import check_layout
        if layouts is None:
            layouts = {}
        if not isinstance(layouts, dict):
            raise TypeError(f"For 'init_parameters_data', 'layouts' must be a dict of Parameter name -> layout, "
                            f"but got {type(layouts).__name__}.")
        params = self._parameters_to_initialise()
        unknown = set(layouts) - {param.name for param in params}
        if unknown:
            raise ValueError(f"For 'init_parameters_data', 'layouts' names {sorted(unknown)}, which are not "
                             f"Parameters of this cell.")
        for param in params:
            if param.name in layouts and param.has_init:
                check_layout(layouts[param.name], param.shape)
        replaced = {}
        for param in params:
            layout = layouts.get(param.name)
            if layout is None and auto_parallel_mode:
                continue
            replaced[param] = param.init_data(layout, set_sliced=layout is not None)
        return replaced

    def _parameters_to_initialise(self) -> list[Parameter]:
        """The registered Parameters, then those of ParameterTuple attributes that are not (a tuple's
        Parameter whose name another one took), each once: what MindSpore's init_parameters_data covers."""
        params = list(self.get_parameters())
        seen = {id(param) for param in params}
        for _, cell in self.cells_and_names():
            for value in vars(cell).values():
                if isinstance(value, ParameterTuple):
                    for param in value:
                        if id(param) not in seen:
                            seen.add(id(param))
                            params.append(param)
        return params

    def set_train(self: _CellT, mode: bool = True) -> _CellT:
        """Set ``training`` on this cell and every sub-cell; returns the cell."""
        for _, cell in self.cells_and_names():
            cell.__dict__["training"] = mode
        return self

    # --- traversal -----------------------------------------------------------------------------
    def cells_and_names(self, cells: "set[Cell] | None" = None, name_prefix: str = "") -> Iterator[tuple[str, "Cell"]]:
        """Yield ``(path, cell)`` for this cell and every sub-cell, depth first, each cell once."""
        seen = cells if cells else set()
        if self in seen:
            return
        seen.add(self)
        yield name_prefix, self
        for name, cell in self._cells.items():
            if cell is not None:
                yield from cell.cells_and_names(seen, f"{name_prefix}.{name}" if name_prefix else name)

    def name_cells(self) -> "OrderedDict[str, Cell]":
        """OrderedDict of the direct sub-cells by attribute name (each cell once)."""
        seen: set[Cell] = set()
        cells: OrderedDict[str, Cell] = OrderedDict()
        for name, cell in self._cells.items():
            if cell is not None and cell not in seen:
                seen.add(cell)
                cells[name] = cell
        return cells

    def cells(self) -> "ValuesView[Cell]":
        """The direct sub-cells."""
        return self.name_cells().values()

    def parameters_and_names(self, name_prefix: str = "", expand: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(attribute path, Parameter)`` for every Parameter, each once.

        Parameters
        ----------
        name_prefix : str, default ''
            Prepended (with '.') to every path.
        expand : bool, default True
            Include the Parameters of sub-cells.
        """
        for cell_path, name, param in self._owned_parameters(name_prefix, expand):
            yield (f"{cell_path}.{name}" if cell_path else name), param

    def _owned_parameters(self, name_prefix: str = "", expand: bool = True) -> Iterator[tuple[str, str, Parameter]]:
        """``(cell path, attribute name, Parameter)`` for every Parameter, each once; the paths are
        left unjoined so that callers who only want the Parameters build no strings for them."""
        cells: "Iterator[tuple[str, Cell]] | list[tuple[str, Cell]]" = (
            self.cells_and_names(name_prefix=name_prefix) if expand else [(name_prefix, self)])
        seen: set[int] = set()
        for cell_path, cell in cells:
            for name, param in cell._params.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield cell_path, name, param

    def get_parameters(self, expand: bool = True) -> Iterator[Parameter]:
        """Iterator over the Parameters (with sub-cells' if ``expand``), in parameters_and_names order."""
        return (param for _, _, param in self._owned_parameters(expand=expand))

    def parameters_dict(self, recurse: bool = True) -> "OrderedDict[str, Parameter]":
        """OrderedDict ``Parameter.name -> Parameter``."""
        return OrderedDict([(param.name, param) for param in self._parameter_list(recurse)])

    def _parameter_list(self, expand: bool) -> list[Parameter]:
        """The Parameters in ``get_parameters`` order, gathered in plain loops: the generator chain
        behind ``parameters_and_names`` costs about a microsecond per Parameter, which dominates
        collecting a network's Parameters."""
        params: list[Parameter] = []
        seen: set[int] = set()
        for cell in (self._cells_depth_first() if expand else [self]):
            for param in cell._params.values():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    params.append(param)
        return params

    def _cells_depth_first(self) -> "list[Cell]":
        """This cell and every sub-cell in ``cells_and_names`` order (depth first, each once)."""
        order: list[Cell] = []
        seen: set[Cell] = set()
        pending: list[Cell] = [self]
        while pending:
            cell = pending.pop()
            if cell in seen:
                continue
            seen.add(cell)
            order.append(cell)
            pending.extend(reversed([child for child in cell._cells.values() if child is not None]))
        return order

    def trainable_params(self, recurse: bool = True) -> list[Parameter]:
        """List of the Parameters with ``requires_grad``."""
        return [param for param in self.get_parameters(expand=recurse) if param.requires_grad]

    def untrainable_params(self, recurse: bool = True) -> list[Parameter]:
        """List of the Parameters without ``requires_grad``."""
        return [param for param in self.get_parameters(expand=recurse) if not param.requires_grad]

    def update_parameters_name(self, prefix: str = "", recurse: bool = True) -> None:
        """Rename every Parameter to ``prefix + attribute path``.

        Raises
        ------
        TypeError
            If ``prefix`` is not a str.
        ValueError
            If ``prefix`` does not match MindSpore's ``^\\w*[0-9a-zA-Z\\_\\.\\-]*$`` (ASCII): only
            letters, digits, '_', '.' and '-' (the empty prefix included).
        """
        if not isinstance(prefix, str):
            raise TypeError(f"For 'update_parameters_name', the argument 'prefix' must be str, "
                            f"but got {type(prefix).__name__}.")
        if _PREFIX_PATTERN.match(prefix) is None:
            raise ValueError(f"For 'update_parameters_name', the argument 'prefix' {prefix!r} must match "
                             f"{_PREFIX_PATTERN.pattern!r}.")
        self._rename_parameters(prefix, recurse)

    def _rename_parameters(self, prefix: str, recurse: bool = True) -> None:
        for path, param in self.parameters_and_names(expand=recurse):
            param.name = prefix + path

    # --- printing ------------------------------------------------------------------------------
    def extend_repr(self) -> str:
        """Extra text inside ``Name<...>``; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extend_repr()
        if not self._cells:
            return f"{type(self).__name__}<{extra}>"
        lines = [extra] if extra else []
        lines += [f"({name}): {cell!r}" for name, cell in self._cells.items()]
        # MindSpore's layout: one line per entry, sub-cells' own lines indented with them.
        body = "".join("\n" + line for line in lines) + "\n"
        return f"{type(self).__name__}<" + body.replace("\n", "\n  ") + ">"

    __str__ = __repr__


def _is_parameter_sequence(value: object) -> bool:
    """A non-empty plain tuple or list whose items are all Parameters (MindSpore's test)."""
    return (isinstance(value, (list, tuple)) and not isinstance(value, ParameterTuple) and bool(value)
            and all(isinstance(item, Parameter) for item in value))

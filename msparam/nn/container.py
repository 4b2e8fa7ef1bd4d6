"""SequentialCell and CellList: MindSpore's containers of cells (``mindspore.nn.layer.container``).

A container names its cells by key ('0', '1', ... or an OrderedDict's keys) and renames the
Parameters of every cell it takes to ``prefix + key + '.' + path``, as MindSpore does, so that
``parameters_dict()`` and checkpoints carry MindSpore's names.
"""
import re
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, cast, overload

from msparam.nn.cell import Cell

__all__ = ["SequentialCell", "CellList"]

# The characters MindSpore 2.10 accepts in a name prefix (check_str_and_none_by_regular), without '.'.
_KEY_PATTERN = re.compile(r"[0-9A-Za-z_\-]+")


def _check_cell(cell: object, cls_name: str) -> Cell:
    if not isinstance(cell, Cell):
        raise TypeError(f"For '{cls_name}', each cell must be subclass of Cell, but got {type(cell).__name__}.")
    return cell


def _check_index(index: object, length: int, cls_name: str) -> int:
    """``index`` (an int in ``[-length, length)``) as a position in ``range(length)``."""
    if not isinstance(index, int):
        raise TypeError(f"For '{cls_name}', the type of 'index' must be int, but got {type(index).__name__}.")
    if not -length <= index < length:
        raise IndexError(f"For '{cls_name}', the value of 'index' must be a number in range [{-length}, {length}), "
                         f"but got {index}.")
    return index % length


def _check_insert_index(index: object, length: int, cls_name: str) -> int:
    """``index`` (an int in ``[-length, length]``) as an insertion position in ``range(length + 1)``."""
    if not isinstance(index, int):
        raise TypeError(f"For '{cls_name}', the type of 'index' must be int, but got {type(index).__name__}.")
    if not -length <= index <= length:
        raise IndexError(f"For '{cls_name}', the value of 'index' must be a number in range [{-length}, {length}], "
                         f"but got {index}.")
    return index + length if index < 0 else index


def _positions(index: object, length: int, cls_name: str, type_message: str) -> set[int]:
    """The positions ``del container[index]`` removes (``index`` an int or a slice).

    ``type_message`` is the container's TypeError text, with ``{}`` for the type's name.
    """
    if isinstance(index, slice):
        return set(range(length)[index])
    if isinstance(index, int):
        return {_check_index(index, length, cls_name)}
    raise TypeError(f"For '{cls_name}', " + type_message.format(type(index).__name__))


def _held(container: Cell) -> list[Cell]:
    """A container's cells, in order (a container never holds None)."""
    return cast("list[Cell]", list(container._cells.values()))


def _name_prefix(container: Cell) -> str:
    """What the container's Parameter names carry in front of its own paths: 'body.' inside a net.

    A container does not know where it is attached, so it reads the prefix off the names its cells
    already have (as MindSpore does); with no Parameters yet, the prefix is empty.
    """
    for path, param in container.parameters_and_names():
        name = param.name
        if name == path or name.endswith("." + path):
            return name[:len(name) - len(path)]
    return ""


class SequentialCell(Cell):
    """A chain of cells: the output of each is the input of the next, as MindSpore's ``nn.SequentialCell``.

    Parameters
    ----------
    *args : Cell, list of Cell or OrderedDict of str to Cell
        The cells in order: given one by one or as a list (keys '0', '1', ...), or as an OrderedDict
        whose keys name them.

    Raises
    ------
    TypeError
        If a single argument is not a Cell, list or OrderedDict, if an element is not a Cell, or
        if an OrderedDict key is not a str.
    KeyError
        If an OrderedDict key is empty, contains '.', or is the name of an attribute of the cell.
    ValueError
        If an OrderedDict key has a character other than ASCII letters, digits, '_' and '-'.

    Notes
    -----
    Each cell's Parameters are renamed to ``key.path`` (``0.weight``, ``fc1.bias``); attached to a
    network as ``self.body``, they become ``body.0.weight``. Cells given by position are
    renumbered when one before them is deleted; OrderedDict keys are kept. A slice is a new
    SequentialCell of the same cells under their keys, which renames their Parameters as any new
    container does.

    Examples
    --------
    >>> seq = SequentialCell(Dense(3, 4), ReLU(), Dense(4, 2))
    >>> list(seq.parameters_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> seq(Tensor(np.ones((1, 3), np.float32))).shape
    (1, 2)
    """

    _positional_keys: set[str]

    def __init__(self, *args: "Cell | list[Cell] | OrderedDict[str, Cell]") -> None:
        super().__init__()
        cls_name = type(self).__name__
        items: list[tuple[Any, Any]]
        if len(args) == 1 and not isinstance(args[0], Cell):
            cells = args[0]
            if isinstance(cells, OrderedDict):
                items, positional = list(cells.items()), False
            elif isinstance(cells, list):
                items, positional = list(enumerate(cells)), True
            else:
                raise TypeError(f"For '{cls_name}', the 'args[0]' must be Cell, list or orderedDict, "
                                f"but got {type(cells).__name__}")
        else:
            items, positional = list(enumerate(args)), True
        # Keys of cells given by position: they follow the cell's position when cells are deleted.
        self._positional_keys = set()
        # Everything is checked before any Parameter is renamed: a failed construction changes nothing.
        checked = [(str(key) if positional else self._check_key(key), _check_cell(cell, cls_name))
                   for key, cell in items]
        for key, cell in checked:
            cell._rename_parameters(key + ".")
            self._cells[key] = cell
        if positional:
            self._positional_keys.update(self._cells)

    def _check_key(self, key: object) -> str:
        cls_name = type(self).__name__
        if not isinstance(key, str):
            raise TypeError(f"For '{cls_name}', the keys of the OrderedDict must be str, "
                            f"but got {type(key).__name__}.")
        if not key or "." in key:
            raise KeyError(f"For '{cls_name}', a key of the OrderedDict can not be empty or contain '.', "
                           f"but got {key!r}.")
        if key in self.__dict__ or hasattr(type(self), key):
            raise KeyError(f"For '{cls_name}', the key {key!r} is the name of an attribute of the cell; "
                           f"choose another name.")
        if _KEY_PATTERN.fullmatch(key) is None:
            raise ValueError(f"For '{cls_name}', a key of the OrderedDict may only have ASCII letters, digits, "
                             f"'_' and '-', but got {key!r}.")
        return key

    @overload
    def __getitem__(self, index: int) -> Cell: ...
    @overload
    def __getitem__(self, index: slice) -> "SequentialCell": ...

    def __getitem__(self, index: "int | slice") -> "Cell | SequentialCell":
        if isinstance(index, slice):
            return SequentialCell(OrderedDict(cast("list[tuple[str, Cell]]", list(self._cells.items()))[index]))
        return _held(self)[_check_index(index, len(self), type(self).__name__)]

    def __setitem__(self, index: int, cell: Cell) -> None:
        cls_name = type(self).__name__
        _check_cell(cell, cls_name)
        key = list(self._cells)[_check_index(index, len(self), cls_name)]
        cell._rename_parameters(_name_prefix(self) + key + ".")
        self._cells[key] = cell

    def __delitem__(self, index: "int | slice") -> None:
        cls_name = type(self).__name__
        removed = _positions(index, len(self), cls_name,
                             "the type of index must be int type or slice type, but got {}")
        kept = [(key, cell) for position, (key, cell) in enumerate(zip(self._cells, _held(self)))
                if position not in removed]
        new_keys = [str(position) if key in self._positional_keys else key for position, (key, _) in enumerate(kept)]
        if len(set(new_keys)) < len(new_keys):
            raise KeyError(f"For '{cls_name}', deleting {index!r} would renumber a cell to a key that another "
                           f"cell has: {new_keys}.")
        for key in [key for position, key in enumerate(self._cells) if position in removed]:
            del self._cells[key]
        prefix = _name_prefix(self)  # read while the kept cells' names still match their old keys
        self._cells.clear()
        positional: set[str] = set()
        for (old_key, cell), key in zip(kept, new_keys):
            if old_key in self._positional_keys:
                cell._rename_parameters(prefix + key + ".")
                positional.add(key)
            self._cells[key] = cell
        self._positional_keys = positional

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[Cell]:
        return iter(_held(self))

    def append(self, cell: Cell) -> None:
        """Add ``cell`` at the end, under the key ``str(len(self))``.

        Raises
        ------
        TypeError
            If ``cell`` is not a Cell.
        KeyError
            If another cell already has that key (a slice keeps its cells' keys).
        """
        cls_name = type(self).__name__
        _check_cell(cell, cls_name)
        key = str(len(self))
        if key in self._cells:
            raise KeyError(f"For '{cls_name}', the appended cell's key {key!r} is already the key of another cell.")
        cell._rename_parameters(_name_prefix(self) + key + ".")
        self._cells[key] = cell
        self._positional_keys.add(key)

    def construct(self, input_data: Any) -> Any:
        for cell in _held(self):
            input_data = cell(input_data)
        return input_data


class CellList(Cell):
    """Cells held in a list, not connected, as MindSpore's ``nn.CellList``.

    Parameters
    ----------
    *args : list of Cell, optional
        At most one: the first cells (MindSpore's ``CellList(*args, **kwargs)``).
    auto_prefix : bool, default True
        Rename each cell's Parameters to ``index.path`` (``0.weight``), keeping them in step with
        the cells' positions.

    Raises
    ------
    TypeError
        If the argument is not a list (``None`` included, as in MindSpore), an element is not a
        Cell, or more than one list is given (MindSpore ignores them all).

    Notes
    -----
    Supports ``len``, iteration, indexing (a slice is a new CellList of the same cells, which
    renames their Parameters as any new container does), assignment, ``del``, :meth:`append`,
    :meth:`extend`, :meth:`insert` and ``+=`` with a list. A CellList has no ``construct``: calling
    it raises NotImplementedError; a network calls its cells.

    Examples
    --------
    >>> layers = CellList([Dense(3, 4), ReLU()])
    >>> layers.insert(0, Dense(3, 3))
    >>> list(layers.parameters_dict())
    ['0.weight', '0.bias', '1.weight', '1.bias']
    """

    def __init__(self, *args: "list[Cell]", auto_prefix: bool = True) -> None:
        if len(args) > 1:
            raise TypeError(f"For 'CellList', at most one list of cells can be given, but got {len(args)} arguments.")
        super().__init__(auto_prefix)
        if args:
            self.extend(args[0])

    @overload
    def __getitem__(self, index: int) -> Cell: ...
    @overload
    def __getitem__(self, index: slice) -> "CellList": ...

    def __getitem__(self, index: "int | slice") -> "Cell | CellList":
        if isinstance(index, slice):
            return CellList(_held(self)[index])
        if isinstance(index, int):
            return _held(self)[_check_index(index, len(self), type(self).__name__)]
        raise TypeError(f"For '{type(self).__name__}', the type of 'index' must be int or slice, "
                        f"but got {type(index).__name__}.")

    def __setitem__(self, index: int, cell: Cell) -> None:
        cls_name = type(self).__name__
        _check_cell(cell, cls_name)
        position = _check_index(index, len(self), cls_name)
        if self._auto_prefix:
            cell._rename_parameters(f"{_name_prefix(self)}{position}.")
        self._cells[list(self._cells)[position]] = cell

    def __delitem__(self, index: "int | slice") -> None:
        removed = _positions(index, len(self), type(self).__name__,
                             "the type of 'index' must be int or slice, but got {}.")
        for key in [key for position, key in enumerate(self._cells) if position in removed]:
            del self._cells[key]
        self._rekey(_held(self), 0)

    def _rekey(self, cells: list[Cell], start: int) -> None:
        """Hold ``cells`` under the keys '0', '1', ...; rename the Parameters of those from ``start`` on."""
        prefix = _name_prefix(self) if self._auto_prefix else ""  # read while the names match the old keys
        self._cells.clear()
        for position, cell in enumerate(cells):
            if self._auto_prefix and position >= start:
                cell._rename_parameters(f"{prefix}{position}.")
            self._cells[str(position)] = cell

    def __len__(self) -> int:
        return len(self._cells)

    def __iter__(self) -> Iterator[Cell]:
        return iter(_held(self))

    def __iadd__(self, cells: list[Cell]) -> "CellList":
        return self.extend(cells)

    def insert(self, index: int, cell: Cell) -> None:
        """Insert ``cell`` before position ``index`` (``-len(self) <= index <= len(self)``)."""
        cls_name = type(self).__name__
        position = _check_insert_index(index, len(self), cls_name)
        _check_cell(cell, cls_name)
        cells = _held(self)
        cells.insert(position, cell)
        self._rekey(cells, position)

    def extend(self, cells: list[Cell]) -> "CellList":
        """Append every cell of the list ``cells``; returns the CellList.

        Raises
        ------
        TypeError
            If ``cells`` is not a list or an element is not a Cell (then nothing is appended).
        """
        cls_name = type(self).__name__
        if not isinstance(cells, list):
            raise TypeError(f"For '{cls_name}', the new cells wanted to append should be instance of list, "
                            f"but got {type(cells).__name__}.")
        for cell in cells:
            _check_cell(cell, cls_name)
        prefix = _name_prefix(self) if self._auto_prefix else ""
        for cell in cells:
            position = len(self)
            if self._auto_prefix:
                cell._rename_parameters(f"{prefix}{position}.")
            self._cells[str(position)] = cell
        return self

    def append(self, cell: Cell) -> None:
        """Add ``cell`` at the end."""
        self.extend([cell])

    def construct(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"For '{type(self).__name__}', construct is not defined: a CellList holds "
                                  f"cells without connecting them; call its cells instead.")

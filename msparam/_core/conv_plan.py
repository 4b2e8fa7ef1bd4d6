"""Conv2d forward planning: arguments, geometry and kernel choice, in plain Python.

A :class:`Conv2dPlan` checks a layer's weight shape, dtype, stride, dilation, padding and group
once, resolves the compiled kernels of its ISA and dtype (their register tiles come with them,
``_conv.ConvKernels``), and per input shape works out the output, the stride-phase layout, the tap
offsets and the cheapest kernel orientation, cached as one ``_conv.ConvGeometry``.  Every call
then checks its arrays and hands them to the compiled core (msparam/_core/_conv.pyx), which trusts
them.  ``msparam.nn.Conv2d`` resolves ``pad_mode`` into explicit paddings and calls the plan.
"""
import math
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from msparam._core import _conv
from msparam._core._cpu_isa import available_isas, isa_index
from msparam._core._winograd import WinogradConv, winograd_for

__all__ = ["Conv2dPlan", "conv2d_forward", "available_isas", "output_length"]

# Work (multiply-adds) below which one thread beats waking the OpenMP team.
_TINY_MACS = 1 << 18
# Estimated store cost per output value in multiply-add units, by kernel orientation
# (channel_vectors): pixel-vector blocks copy out as contiguous runs, channel-vector blocks
# are transposed one value at a time.
_STORE_MACS = (2, 32)
_KERNELS = ("pixel_vectors", "channel_vectors")
# Element counts beyond this could overflow a byte size or an offset sum in Py_ssize_t.
_MAX_ELEMENTS = (1 << 62) // 16

Shape4 = tuple[int, int, int, int]
# A prepared call: (output shape, threads, channel-vector orientation, geometry), or the output
# shape alone when it is empty.
_Call = Union[tuple[Shape4], tuple[Shape4, int, bool, _conv.ConvGeometry]]
# Per input size: (Hq, Wq, koff, tail_koff, nr, by_row, channel_vectors) (see Conv2dPlan._taps).
_Taps = tuple[int, int, npt.NDArray[np.intp], npt.NDArray[np.intp], int, bool, bool]


def output_length(size: int, kernel: int, stride: int, dilation: int, before: int,
                  after: int) -> int:
    """Output pixels along one axis of ``size`` input pixels, ``before`` + ``after`` zeros of
    padding: the starts of the dilated kernel, ``stride`` apart, inside the padded input (zero or
    less when the padded input is shorter than the dilated kernel)."""
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def _pair(value: Any, name: str) -> tuple[int, ...]:
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"For 'Conv2dPlan', '{name}' must be a tuple of ints, but got "
                        f"{type(value).__name__}.") from None
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"For 'Conv2dPlan', '{name}' must contain ints, but got {value!r}.")
    return tuple(int(item) for item in items)


_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


class Conv2dPlan:
    """A Conv2d forward pass planned once for a weight shape and dtype; the weights come with
    every call.

    Parameters
    ----------
    weight_shape : (int, int, int, int)
        (C_out, C_in / group, kh, kw), positive.
    dtype : float16, float32 or float64
        Of the inputs, weights and bias of every call.
    stride : (int, int)
        (sh, sw), positive.
    dilation : (int, int)
        (dh, dw), positive.
    padding : (int, int, int, int)
        (top, bottom, left, right), non-negative.
    group : int
        Positive, divides C_out.
    isa : str or None
        Force a SIMD path from :func:`available_isas` (tests); None picks the widest.
    kernel : {'pixel_vectors', 'channel_vectors'} or None
        Force the dense kernel's vector orientation (tests); None picks, per input size, the
        one with the least estimated work.
    algorithm : {'direct', 'winograd_f2', 'winograd_f4'} or None
        None: 3x3 stride-1 layers of one group (float16/float32) may run Winograd, chosen per
        input shape (``_winograd.WinogradConv``), unless the environment variable
        ``MSPARAM_CONV_ALGORITHM`` is ``direct`` when the plan is built; 'direct' never does
        (the direct convolution's rounding); a Winograd tile size forces it (such layers only).

    Notes
    -----
    Each call computes with the weights and bias it is given, whatever wrote them since the last
    call (``asnumpy()``, the buffer protocol, DLPack, ... leave no trace to check).  The dense
    paths keep their kernels' packed panels of the last weights and a copy of those weights,
    compared byte for byte with each call's (a ``memcmp``, a few per cent of the convolution
    where the weights are largest against the work); any difference packs them again.  The
    depthwise path reads the weights as given.

    float16 is computed in float32 and rounded back once.  Paths (``path`` attribute):
    ``'depthwise'`` (one input and one output channel per group; stride 1 reads the input in
    place), ``'pointwise'`` (1x1, stride 1, no padding: read in place), ``'direct'``
    (everything else, on a zero-padded stride-phase copy).  Inputs whose work is below a small
    threshold run on one thread (``tiny`` in :meth:`path_for`).

    The dense paths use one of two register-blocked kernels, chosen per input size by estimated
    work (:meth:`pixel_blocking`): pixel vectors (output pixels in SIMD registers, weights
    broadcast; contiguous stores) or channel vectors (output channels in SIMD registers;
    blocks of any pixel count, e.g. one 14-pixel row).  Every output value is one dot product
    summed in a fixed order, so results do not depend on the thread count.
    """
    isa: str
    dtype: np.dtype[Any]
    weight_shape: Shape4
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: Shape4
    group: int
    path: str

    def __init__(self, weight_shape: tuple[int, ...], dtype: npt.DTypeLike,
                 stride: tuple[int, ...], dilation: tuple[int, ...], padding: tuple[int, ...],
                 group: int, isa: Optional[str] = None, kernel: Optional[str] = None,
                 algorithm: Optional[str] = None) -> None:
        shape = _pair(weight_shape, "weight_shape")
        if len(shape) != 4 or min(shape) < 1:
            raise ValueError(f"For 'Conv2dPlan', 'weight_shape' must be four positive ints "
                             f"(C_out, C_in/group, kh, kw), but got {shape}.")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"For 'Conv2dPlan', 'dtype' must be float16, float32 or float64, "
                            f"but got {dtype!r}.") from None
        if dtype not in _DTYPES:
            raise TypeError(f"For 'Conv2dPlan', 'dtype' must be float16, float32 or float64, "
                            f"but got {dtype}.")
        if isinstance(group, bool) or not isinstance(group, (int, np.integer)):
            raise TypeError(f"For 'Conv2dPlan', 'group' must be int, but got "
                            f"{type(group).__name__}.")
        group = int(group)
        if group < 1:
            raise ValueError(f"For 'Conv2dPlan', 'group' must be positive, but got {group}.")
        c_out = shape[0]
        if c_out % group:
            raise ValueError(f"For 'Conv2dPlan', 'group' ({group}) must divide the weight's "
                             f"output channels ({c_out}).")
        steps = _pair(stride, "stride")
        spacing = _pair(dilation, "dilation")
        pads = _pair(padding, "padding")
        if len(steps) != 2 or min(steps) < 1:
            raise ValueError(f"For 'Conv2dPlan', 'stride' must be two positive ints, but got "
                             f"{steps}.")
        if len(spacing) != 2 or min(spacing) < 1:
            raise ValueError(f"For 'Conv2dPlan', 'dilation' must be two positive ints, but "
                             f"got {spacing}.")
        if len(pads) != 4 or min(pads) < 0:
            raise ValueError(f"For 'Conv2dPlan', 'padding' must be four non-negative ints "
                             f"(top, bottom, left, right), but got {pads}.")
        isa_number = isa_index(isa, "For 'Conv2dPlan', ")
        self.isa = available_isas()[isa_number]
        if kernel is not None and kernel not in _KERNELS:
            raise ValueError(f"For 'Conv2dPlan', 'kernel' must be one of {list(_KERNELS)} or "
                             f"None, but got {kernel!r}.")
        self._orientations = (0, 1) if kernel is None else (_KERNELS.index(kernel),)
        self._tap_cache: dict[tuple[int, int], _Taps] = {}
        self._call_cache: dict[tuple[tuple[int, ...], int], _Call] = {}
        self._packed: tuple[Optional[npt.NDArray[np.floating]],
                            list[Optional[npt.NDArray[np.floating]]]] = (None, [None, None])
        self._macs_per_output = math.prod(shape[1:])
        self.dtype = dtype
        self.weight_shape, self.stride, self.dilation, self.padding = shape, steps, spacing, pads
        self.group = group
        self._compute_dtype = np.dtype(np.float64 if dtype == np.float64 else np.float32)
        self._kernels = _conv.ConvKernels(isa_number, self._compute_dtype == np.float64)
        _, cg_in, kh, kw = self.weight_shape
        if cg_in == 1 and c_out == group:
            self.path = "depthwise"
        elif kh == 1 and kw == 1 and steps == (1, 1) and pads == (0, 0, 0, 0):
            self.path = "pointwise"
        else:
            self.path = "direct"
        self._winograd: Optional[WinogradConv] = winograd_for(
            self.weight_shape, dtype, self.stride, self.dilation, group, isa_number, algorithm)

    def output_shape(self, input_shape: tuple[int, ...]) -> Shape4:
        """(N, C_out, H_out, W_out) for an input of shape (N, C_in, H, W) (no validation)."""
        n, _, h, w = input_shape
        kh, kw = self.weight_shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, bottom, left, right = self.padding
        return (n, self.weight_shape[0], output_length(h, kh, sh, dh, top, bottom),
                output_length(w, kw, sw, dw, left, right))

    def path_for(self, input_shape: tuple[int, ...]) -> str:
        """The path an input of this shape takes: ``path``, plus ``'-tiny'`` if single-threaded."""
        n, c_out, h_out, w_out = self.output_shape(input_shape)
        macs = n * c_out * h_out * w_out * self._macs_per_output
        tile = 0 if self._winograd is None else self._winograd.tile_size(input_shape, self.padding)
        return (f"winograd_f{tile}" if tile else self.path) + ("-tiny" if macs < _TINY_MACS else "")

    def __call__(self, x: npt.NDArray[Any], weight: npt.NDArray[Any],
                 bias: Optional[npt.NDArray[Any]], num_threads: int) -> npt.NDArray[Any]:
        """The convolution of ``x`` (N, C_in, H, W) with ``weight`` (``weight_shape``) and
        ``bias`` (C_out,) or None, all of the plan's dtype, on up to ``num_threads`` threads."""
        if not isinstance(x, np.ndarray):
            raise TypeError(f"For 'Conv2dPlan', 'x' must be a numpy.ndarray, but got "
                            f"{type(x).__name__}.")
        if x.dtype != self.dtype:
            raise TypeError(f"For 'Conv2dPlan', 'x' dtype ({x.dtype}) must equal the plan's "
                            f"dtype ({self.dtype}).")
        if x.ndim != 4:
            raise ValueError(f"For 'Conv2dPlan', 'x' must be 4-D (N, C_in, H, W), but got "
                             f"shape {x.shape}.")
        if not isinstance(weight, np.ndarray):
            raise TypeError(f"For 'Conv2dPlan', 'weight' must be a numpy.ndarray, but got "
                            f"{type(weight).__name__}.")
        if weight.dtype != self.dtype or weight.shape != self.weight_shape:
            raise ValueError(f"For 'Conv2dPlan', 'weight' must be a {self.dtype} array of shape "
                             f"{self.weight_shape}, but got {weight.dtype} {weight.shape}.")
        if bias is not None:
            if not isinstance(bias, np.ndarray):
                raise TypeError(f"For 'Conv2dPlan', 'bias' must be a numpy.ndarray or None, "
                                f"but got {type(bias).__name__}.")
            if bias.dtype != self.dtype or bias.shape != self.weight_shape[:1]:
                raise ValueError(f"For 'Conv2dPlan', 'bias' must be a {self.dtype} array of "
                                 f"shape {self.weight_shape[:1]}, but got {bias.dtype} "
                                 f"{bias.shape}.")
        if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)):
            raise TypeError(f"For 'Conv2dPlan', 'num_threads' must be int, but got "
                            f"{type(num_threads).__name__}.")
        if num_threads < 1:
            raise ValueError(f"For 'Conv2dPlan', 'num_threads' must be positive, but got "
                             f"{num_threads}.")
        # Shape checks and geometry once per (input shape, thread count).
        call = self._call_cache.get((x.shape, num_threads))
        if call is None:
            call = self._prepare_call(x.shape, int(num_threads))
        if len(call) == 1:
            return np.empty(call[0], self.dtype)
        out_shape, nthreads, channel_vectors, geometry = call
        out: npt.NDArray[Any] = np.empty(out_shape, self._compute_dtype)  # of the compute dtype, as xc and weight
        xc = _kernel_ready(x, self._compute_dtype)
        weight = _kernel_ready(weight, self._compute_dtype)
        if bias is not None:
            bias = _kernel_ready(bias, self._compute_dtype)
        if (self._winograd is not None and self._winograd.tile_size(x.shape, self.padding)
                and self._winograd(xc, weight, bias, out, self.padding, nthreads)):
            return out if out.dtype == self.dtype else out.astype(self.dtype)
        if self.path == "depthwise":
            # The in-place kernel skips padded taps; a non-finite weight there must still give
            # NaN (0 * inf) as on every other path, so such weights take the padded-copy kernel.
            in_place = self.stride == (1, 1) and (not any(self.padding)
                                                  or bool(np.isfinite(weight).all()))
            self._kernels.depthwise(xc, out, weight, bias, geometry, in_place)
        else:
            panels = self._panels_for(weight, channel_vectors, nthreads)
            self._kernels.dense(xc, out, panels, bias, geometry)
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def _panels_for(self, weight: npt.NDArray[np.floating], channel_vectors: bool,
                    nthreads: int) -> npt.NDArray[np.floating]:
        """The dense kernel's packed panels of ``weight`` (compute dtype, C-contiguous), packed
        again only if its bytes differ from those the cached panels were packed from.  A change
        installs a new (copy, panels) pair rather than writing over the old one, which calls
        running concurrently may still be reading."""
        snapshot, panels = self._packed
        if snapshot is None or not _conv.same_bytes(snapshot, weight, nthreads):
            self._packed = (weight.copy(), [None, None])
            snapshot, panels = self._packed
        packed = panels[channel_vectors]
        if packed is None:
            packed = self._kernels.pack(snapshot, self.group, channel_vectors)
            panels[channel_vectors] = packed
        return packed

    def _prepare_call(self, shape: tuple[int, ...], num_threads: int) -> _Call:
        """Validate an input shape; (output shape, threads, kernel orientation, geometry) for it,
        cached (the output shape alone for an empty output)."""
        c_in = self.weight_shape[1] * self.group
        if shape[1] != c_in:
            raise ValueError(f"For 'Conv2dPlan', 'x' must have {c_in} input channels (weight "
                             f"{self.weight_shape}, group {self.group}), but got {shape[1]}.")
        out_shape = self.output_shape(shape)
        # An empty input (a batch of 0, or the 0-high input of a 'same' layer) gives an empty
        # output; any other input must give at least one output pixel.
        smallest = 0 if 0 in shape else 1
        if out_shape[2] < smallest or out_shape[3] < smallest:
            raise ValueError(f"For 'Conv2dPlan', the output would be {out_shape[2]}x"
                             f"{out_shape[3]} (input {shape[2]}x{shape[3]}, kernel "
                             f"{self.weight_shape[2:]}, stride {self.stride}, dilation "
                             f"{self.dilation}, padding {self.padding}); it must be at least "
                             f"{smallest}x{smallest}.")
        call: _Call
        if 0 in out_shape:
            call = (out_shape,)
        else:
            self._check_work_size(shape, out_shape, num_threads)
            nthreads = 1 if self.path_for(shape).endswith("-tiny") else num_threads
            call = (out_shape, nthreads) + self._geometry(shape, out_shape, nthreads)
        if len(self._call_cache) >= 8:
            self._call_cache.clear()
        self._call_cache[(shape, num_threads)] = call
        return call

    def _geometry(self, shape: tuple[int, ...], out_shape: Shape4,
                  nthreads: int) -> tuple[bool, _conv.ConvGeometry]:
        """(kernel orientation, the kernels' ConvGeometry) of an input shape."""
        n, c_in, h, w = shape
        hq, wq, koff, tail_koff, _, by_row, channel_vectors = self._taps(h, w)
        (sh, sw), (dh, dw) = self.stride, self.dilation
        fields = dict(N=n, C_in=c_in, H=h, W=w, G=self.group, Cg_in=self.weight_shape[1],
                      Cg_out=self.weight_shape[0] // self.group, K=koff.shape[0],
                      kh=self.weight_shape[2], kw=self.weight_shape[3], sh=sh, sw=sw, dh=dh,
                      dw=dw, top=self.padding[0], left=self.padding[2], H_out=out_shape[2],
                      W_out=out_shape[3], Hq=hq, Wq=wq, channel_vectors=channel_vectors,
                      by_row=by_row, in_place=self.path == "pointwise", nthreads=nthreads)
        return channel_vectors, _conv.ConvGeometry(fields, koff, tail_koff)

    def _check_work_size(self, shape: tuple[int, ...], out_shape: Shape4,
                         num_threads: int) -> None:
        """Refuse, before any array or C size is formed, an input whose stride-phase planes, tap
        offsets or work space would not fit in Py_ssize_t elements (computed here in Python
        integers, which cannot wrap)."""
        n, c_in, h, w = shape
        kh, kw = self.weight_shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, bottom, left, right = self.padding
        reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
        padded_h, padded_w = h + top + bottom, w + left + right
        hq = -(-padded_h // sh)
        wq = -(-padded_w // sw) + reach_w // sw + out_shape[3]  # bounds _shared_padding_width
        plane = sh * sw * hq * wq
        per_thread = (plane + (max(self._kernels.mr) + self._macs_per_output)
                      * max(self._kernels.nr) + wq + 64)
        elements = (n * c_in * plane + num_threads * per_thread + out_shape[2] * wq
                    + math.prod(out_shape) + self.weight_shape[1] * plane + reach_h * wq)
        if max(reach_h, reach_w, padded_h, padded_w, elements) > _MAX_ELEMENTS:
            raise ValueError(f"For 'Conv2dPlan', 'stride' {self.stride}, 'dilation' "
                             f"{self.dilation} and 'padding' {self.padding} on an input of shape "
                             f"{tuple(shape)} need a work space of {elements} elements, more "
                             f"than the {_MAX_ELEMENTS} the kernels can address; reduce them.")

    def pixel_blocking(self, h: int, w: int) -> tuple[int, bool, bool]:
        """(pixels per register block, whether blocks follow output rows, whether the kernel
        holds output channels in vectors) for an (h, w) input.  Channel-vector blocks never
        follow rows: they take consecutive output pixels across row ends."""
        return self._taps(h, w)[4:]

    def _taps(self, h: int, w: int) -> _Taps:
        """Phase-plane size and per-tap offsets for an (h, w) input, cached per input size."""
        key = (h, w)
        cached = self._tap_cache.get(key)
        if cached is not None:
            return cached
        kh, kw = self.weight_shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, bottom, left, right = self.padding
        hq = -(-(h + top + bottom) // sh)
        wq = -(-(w + left + right) // sw)
        if self.path == "direct":
            wq = self._shared_padding_width(w)
        ky = np.arange(kh).reshape(kh, 1) * dh
        kx = np.arange(kw).reshape(1, kw) * dw
        taps = ((ky % sh) * sw + kx % sw) * hq * wq + (ky // sh) * wq + kx // sw
        if self.path == "pointwise":
            hq, wq = h, w
            taps = np.zeros((1, 1), np.intp)
        channels = np.arange(self.weight_shape[1]).reshape(-1, 1, 1)
        koff = np.ascontiguousarray((channels * (sh * sw * hq * wq) + taps).ravel(), np.intp)
        nr, by_row, cv = self._blocking(h, w, wq)
        tail_koff = np.arange(koff.size, dtype=np.intp) * nr
        if len(self._tap_cache) >= 8:
            self._tap_cache.clear()
        self._tap_cache[key] = cached = (hq, wq, koff, tail_koff, nr, by_row, cv)
        return cached

    def _shared_padding_width(self, w: int) -> int:
        """Narrowest stride-phase row for an input w wide, given that rows may share their
        padding columns: reads past a row's end wrap into the next row's left zeros (the last
        row's into the zeroed slack after the planes).  Fewer computed-and-dropped pixels."""
        kw, sw, dw = self.weight_shape[3], self.stride[1], self.dilation[1]
        left = self.padding[2]
        w_out = self.output_shape((1, 1, 1, w))[3]
        width = w_out
        for pw in range(sw):
            # The row must hold its last input column.
            if w - 1 + left >= pw:
                width = max(width, (w - 1 + left - pw) // sw + 1)
        # Reads may run past a row only as far as the next row's left zeros; that row can
        # belong to any stride phase (the first row of the next phase plane).
        zeros = min(max(0, -(-(left - pw) // sw)) for pw in range(sw))
        for kx in range(0, kw * dw, dw):
            width = max(width, w_out + kx // sw - zeros)
        return width

    def _blocking(self, h: int, w: int, wq: int) -> tuple[int, bool, bool]:
        """Kernel orientation and pixel blocking with the least estimated work: multiply-adds
        computed (dropped pixels and padded channels included) plus the cost of storing each
        output, which is higher for the transposed blocks of the channel-vector kernel.  That
        kernel runs over the output pixels only, never by rows (which could only tie)."""
        _, _, h_out, w_out = self.output_shape((1, 1, h, w))
        cg_out = self.weight_shape[0] // self.group
        flat_pixels = (h_out - 1) * wq + w_out
        options: list[tuple[int, int, bool, int]] = []
        for cv in self._orientations:
            mr, nr = self._kernels.mr[cv], self._kernels.nr[cv]
            per_pixel = -(-cg_out // mr) * mr * (self._macs_per_output + _STORE_MACS[cv])
            candidates = [(-(-(h_out * w_out if cv else flat_pixels) // nr) * nr, False)]
            if self.path != "pointwise" and not cv:
                candidates.append((h_out * -(-w_out // nr) * nr, True))
            options += [(pixels * per_pixel, nr, by_row, cv) for pixels, by_row in candidates]
        _, nr, by_row, cv = min(options)
        return nr, by_row, bool(cv)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("Conv2dPlan cannot be pickled; rebuild it from its arguments.")


def conv2d_forward(x: npt.NDArray[Any], weight: npt.NDArray[Any],
                   bias: Optional[npt.NDArray[Any]], stride: tuple[int, ...],
                   dilation: tuple[int, ...], padding: tuple[int, ...], group: int,
                   num_threads: int) -> npt.NDArray[Any]:
    """``Conv2dPlan(weight.shape, weight.dtype, stride, dilation, padding, group)(x, weight,
    bias, num_threads)``."""
    if not isinstance(weight, np.ndarray):
        raise TypeError(f"For 'Conv2dPlan', 'weight' must be a numpy.ndarray, but got "
                        f"{type(weight).__name__}.")
    plan = Conv2dPlan(weight.shape, weight.dtype, stride, dilation, padding, group)
    return plan(x, weight, bias, num_threads)




def _kernel_ready(values: npt.NDArray[Any], dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """``values`` as the kernels read them: C-contiguous and aligned, of ``dtype`` (a fresh copy
    unless it already is)."""
    if values.dtype == dtype and values.flags.c_contiguous and values.flags.aligned:
        return values
    return np.array(values, dtype=dtype, order="C")

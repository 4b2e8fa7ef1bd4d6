"""Hypothesis strategies shared by the Tensor and Parameter tests: every dtype, any small shape."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import msparam as ms
from msparam.common import dtype as mstype

NUMPY_DTYPES = [np.dtype(t._nptype) for t in mstype.all_types]
# ml_dtypes' bfloat16 and float8: Hypothesis cannot draw them, and NumPy's DLPack export refuses them.
ML_DTYPES = [np.dtype(t._nptype) for t in mstype.all_types if t._nptype.__module__ == "ml_dtypes"]
DLPACK_DTYPES = [dtype for dtype in NUMPY_DTYPES if dtype not in ML_DTYPES]

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@st.composite
def arrays(draw, dtypes=st.sampled_from(NUMPY_DTYPES)):
    """Arrays of every msparam dtype and shape (0-d and empty included); NaNs allowed (bfloat16 and
    float8: any bit pattern)."""
    dtype = draw(dtypes)
    if dtype in ML_DTYPES:
        return draw(hnp.arrays(np.dtype(f"u{dtype.itemsize}"), draw(shapes))).view(dtype)
    return draw(hnp.arrays(dtype, draw(shapes)))


def same_values(a, b):
    """Bitwise-equal arrays (so NaNs and signed zeros count)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def msdtype(array):
    return getattr(ms, mstype.dtype_from_numpy(array.dtype)._attr)

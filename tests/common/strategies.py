"""Hypothesis strategies shared by the Tensor and Parameter tests: every dtype, any small shape."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import msparam as ms
from msparam.common import dtype as mstype

NUMPY_DTYPES = [np.dtype(t._nptype) for t in mstype.all_types]

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@st.composite
def arrays(draw, dtypes=st.sampled_from(NUMPY_DTYPES)):
    """Arrays of every msparam dtype and shape (0-d and empty included); NaNs allowed."""
    dtype = draw(dtypes)
    return draw(hnp.arrays(dtype, draw(shapes)))


def same_values(a, b):
    """Bitwise-equal arrays (so NaNs and signed zeros count)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def msdtype(array):
    return getattr(ms, mstype.dtype_from_numpy(array.dtype)._attr)

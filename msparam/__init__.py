"""msparam: MindSpore-shaped network arguments on compiled Cython cores."""
from msparam._threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

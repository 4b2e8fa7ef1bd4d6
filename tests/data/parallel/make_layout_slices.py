"""Made tests/data/parallel/layout_slices.json with MindSpore 2.10 (run under its Python): the
elements of an arange tensor that mindspore.parallel._tensor._load_tensor gives each rank,
tuple tensor_map entries expanded by _expand_layout as MindSpore does."""
import json, numpy as np
from mindspore import Tensor
from mindspore.parallel._tensor import _load_tensor, _expand_layout
cases = [
  ([4], [0, -1], [8, 6]), ([4], [-1, 0], [8, 4]), ([2, 2], [1, 0], [4, 6]), ([2, 2], [0, 1], [4, 6]),
  ([2, 2], [1, -1], [4, 6]), ([2, 2], [-1, 0], [4, 6]), ([2, 3], [0, 1], [6, 4]), ([3, 2], [1, 0], [6, 4]),
  ([2, 2, 2], [2, 0, -1], [4, 2, 3]), ([2, 1, 2], [0, -1, 2], [4, 3, 2]), ([3], [0, -1, -1], [6, 2, 2]),
  ([2, 2], [[1, 0], -1], [8, 3]), ([2, 2], [[0, 1], -1], [8, 3]), ([2, 3, 2], [[2, 0], 1], [8, 6]),
  ([1], [-1, -1], [3, 5]), ([4, 2], [-1, 1], [3, 8]),
]
out = []
for dev_mat, tensor_map, shape in cases:
    n = int(np.prod(dev_mat)); full = np.arange(int(np.prod(shape))).reshape(shape).astype(np.float64)
    ranks = []
    for rank in range(n):
        dm, tm, es = _expand_layout(list(dev_mat), list(tensor_map), list(shape))
        piece = _load_tensor(Tensor(full.reshape(es)), dm, tm, es, rank)
        ranks.append(np.asarray(piece).reshape(-1).astype(int).tolist())
    out.append({"dev_mat": dev_mat, "tensor_map": tensor_map, "shape": shape, "slices": ranks})
json.dump(out, open("layout_slices.json", "w"))
print(len(out))

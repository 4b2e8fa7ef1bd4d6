"""Recipe of the MindSpore 2.10 bfloat16/float8 golden files (msparam is never imported here).

MindSpore's bfloat16 NumPy type works only beside NumPy 1.x (the one it was built with), so run it
in its own venv: ``python3 -m venv /tmp/ms-np1 && /tmp/ms-np1/bin/pip install mindspore==2.10.0
"numpy<2"``, then, from this directory, ``/tmp/ms-np1/bin/python make_mindspore_bfloat16.py``.

Writes, here:
  mindspore_bfloat16.json  every case: initializer fills (seed, shape, expression; a SHA-256 for the
                           large ones) and casts (input name, dtype)
  mindspore_bfloat16.npz   the inputs of the casts and the bit patterns (uint16) MindSpore made
and under ../ckpt/:
  mindspore_bfloat16.ckpt, mindspore_bfloat16_crc.ckpt (crc_check=True), mindspore_bfloat16.safetensors
  mindspore_float8.ckpt    float8 Tensors cast by MindSpore from the float32/float64 inputs (MindSpore
                           2.10 writes these but cannot load them back, nor turn them into NumPy)
  mindspore_bfloat16_expected.npz  the bit patterns of every tensor in those files
"""
import hashlib
import json
from pathlib import Path

import numpy as np

import mindspore as ms
from mindspore import Parameter, Tensor
from mindspore.common.initializer import (Constant, HeNormal, Normal, Sparse, TruncatedNormal, Uniform,
                                          VarianceScaling, initializer)

HERE = Path(__file__).parent
CKPT = HERE.parent / "ckpt"
SEEDS = (1, 20261201)
MATRIX, CONV = (33, 17), (8, 4, 3, 3)
# (expression, shapes): every registered initializer (Orthogonal aside: its QR's last bits depend
# on the LAPACK build) and MindSpore's parameterised ones; constants whose float64 -> float32 ->
# bfloat16 rounding differs from a direct one.
INITS = [
    ("'normal'", (MATRIX, CONV)), ("Normal(sigma=0.2, mean=0.5)", (MATRIX,)), ("'uniform'", (MATRIX, CONV)),
    ("Uniform(scale=0.5)", (MATRIX,)), ("'truncatedNormal'", (MATRIX, CONV)),
    ("TruncatedNormal(sigma=1.0, mean=0.1, a=-0.5, b=1.5)", (MATRIX,)),
    ("'xavier_uniform'", (MATRIX, CONV)), ("'xavier_normal'", (MATRIX, CONV)), ("'he_uniform'", (MATRIX, CONV)),
    ("'he_normal'", (MATRIX, CONV)), ("HeNormal(mode='fan_out', nonlinearity='relu')", (CONV,)),
    ("'varianceScaling'", (MATRIX,)),
    ("VarianceScaling(scale=2.0, mode='fan_out', distribution='untruncated_normal')", (CONV,)),
    ("VarianceScaling(scale=0.5, mode='fan_avg', distribution='uniform')", (MATRIX,)),
    ("Sparse(sparsity=0.3, sigma=0.5)", (MATRIX,)), ("'identity'", (MATRIX,)), ("'dirac'", (CONV,)),
    ("'ones'", (MATRIX,)), ("'zeros'", (MATRIX,)), ("Constant(0.1)", (MATRIX,)),
    ("Constant(1.0039062500000009)", (MATRIX,)), ("-3.0117187500000004", (MATRIX,)),
]
# Large fills (> 2**18 elements: msparam stages them in float32 pieces): SHA-256 of the bits.
LARGE = [("'normal'", (600, 500)), ("'uniform'", (600, 500)), ("'truncatedNormal'", (600, 500)),
         ("'he_normal'", (150, 500, 2, 2))]
NAMESPACE = {"Normal": Normal, "Uniform": Uniform, "TruncatedNormal": TruncatedNormal, "HeNormal": HeNormal,
             "VarianceScaling": VarianceScaling, "Sparse": Sparse, "Constant": Constant}


def bits(tensor):
    values = tensor.asnumpy()
    return values.view(np.uint16 if values.itemsize == 2 else np.uint8).copy()


def fill(expression, shape, seed):
    ms.set_seed(seed)
    return bits(initializer(eval(expression, NAMESPACE), shape, ms.bfloat16).init_data())


def cast_inputs():
    """float32/float64/float16/int inputs whose rounding to bfloat16 and float8 matters."""
    rng = np.random.default_rng(20261202)
    f32 = np.concatenate([
        rng.standard_normal(512).astype(np.float32) * np.float32(3.0),
        (rng.standard_normal(256) * 10.0 ** rng.integers(-45, 39, 256)).astype(np.float32),
        # bfloat16 ties: the upper half of the float32 significand exactly between two bfloat16s
        (rng.integers(0, 1 << 16, 256, dtype=np.uint32) << 16 | 0x8000).view(np.float32),
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.17549435e-38, 3.4028235e38,
                  -3.4028235e38, 3.3895314e38, 3.3961776e38, 448.0, 464.0, 480.0, 57344.0, 61440.0, 1e6,
                  2.0 ** -10, 2.0 ** -17, 0.1, 1 / 3], np.float32)])
    f64 = np.concatenate([
        rng.standard_normal(256) * 4.0,
        # float64 just above a bfloat16 tie: float32 rounds onto the tie, then it rounds to even
        (1.0 + rng.integers(0, 128, 128) * 2.0 ** -7 + 2.0 ** -8 + 2.0 ** -30) * rng.choice([-1.0, 1.0], 128),
        np.array([1.0039062500000009, -3.0117187500000004, 1e300, -1e-300, np.nan, np.inf])])
    return {"float32": f32, "float64": f64,
            "int32": np.concatenate([rng.integers(-2**31, 2**31, 128), [257, 259, 16777217, 2**31 - 1]]).astype(np.int32),
            "int64": np.concatenate([rng.integers(-2**63, 2**63 - 1, 128, dtype=np.int64), [2**62 + 2**38 + 1]])}


def main():
    cases, arrays = {}, {}
    for expression, shapes in INITS:
        for shape in shapes:
            for seed in SEEDS:
                key = f"init{len(cases):03d}"
                cases[key] = {"kind": "init", "init": expression, "shape": list(shape), "seed": seed}
                arrays[key] = fill(expression, shape, seed)
    for expression, shape in LARGE:
        key = f"init{len(cases):03d}"
        cases[key] = {"kind": "init", "init": expression, "shape": list(shape), "seed": SEEDS[0],
                      "sha256": hashlib.sha256(fill(expression, shape, SEEDS[0]).tobytes()).hexdigest()}
    # one seed, then fills of several dtypes: each consumes one stream seed, whatever its dtype
    ms.set_seed(7)
    arrays["sequence"] = np.concatenate([
        bits(initializer("normal", (5, 3), ms.bfloat16).init_data()).ravel(),
        bits(initializer("uniform", (4,), ms.float16).init_data()),
        bits(initializer("truncatedNormal", (9,), ms.bfloat16).init_data())])
    inputs = cast_inputs()
    for name, values in inputs.items():
        arrays[f"input_{name}"] = values
        key = f"cast_{name}"
        cases[key] = {"kind": "cast", "input": f"input_{name}", "how": "Tensor(input, bfloat16)"}
        arrays[key] = bits(Tensor(values, ms.bfloat16))
    every_float16 = Tensor(np.arange(1 << 16, dtype=np.uint16).view(np.float16), ms.bfloat16)
    cases["cast_every_float16"] = {"kind": "cast", "input": "every float16 bit pattern, in order",
                                   "how": "Tensor(input, bfloat16)",
                                   "sha256": hashlib.sha256(bits(every_float16).tobytes()).hexdigest()}
    cases["cast_pyfloat"] = {"kind": "cast", "input": "input_float64", "how": "Tensor(list of float, bfloat16)"}
    arrays["cast_pyfloat"] = bits(Tensor(inputs["float64"].tolist(), ms.bfloat16))
    every_bfloat16 = Tensor(np.arange(1 << 16, dtype=np.uint32).__lshift__(16).view(np.float32), ms.bfloat16)
    for target in ("float16", "float32", "float64"):
        key = f"from_bfloat16_{target}"
        result = every_bfloat16.astype(getattr(ms, target)).asnumpy()
        cases[key] = {"kind": "from_bfloat16", "dtype": target, "sha256": hashlib.sha256(result.tobytes()).hexdigest()}
    (HERE / "mindspore_bfloat16.json").write_text(json.dumps({"mindspore_version": ms.__version__, "cases": cases},
                                                             indent=1) + "\n")
    np.savez_compressed(HERE / "mindspore_bfloat16.npz", **arrays)
    write_checkpoints(inputs)


def write_checkpoints(inputs):
    rng = np.random.default_rng(11)
    bf16 = [Parameter(Tensor(rng.standard_normal((5, 7)).astype(np.float32), ms.bfloat16), name="layer.weight"),
            Parameter(Tensor(rng.standard_normal(7).astype(np.float32), ms.bfloat16), name="layer.bias"),
            Parameter(Tensor(rng.standard_normal(3).astype(np.float32)), name="head.scale"),
            Parameter(Tensor(np.array([True, False, True])), name="mask")]
    ms.save_checkpoint(bf16, str(CKPT / "mindspore_bfloat16.ckpt"))
    ms.save_checkpoint(bf16, str(CKPT / "mindspore_bfloat16_crc.ckpt"), crc_check=True)
    ms.save_checkpoint(bf16, str(CKPT / "mindspore_bfloat16.safetensors"), format="safetensors")
    expected = {p.name: bits(p) if p.dtype == ms.bfloat16 else p.asnumpy() for p in bf16}
    float8 = []  # MindSpore's Parameter cannot hold float8 (it goes through NumPy): dicts of Tensors
    for dtype in ("float8_e4m3fn", "float8_e5m2"):
        for source in ("float32", "float64"):
            float8.append({"name": f"{dtype}.from_{source}", "data": Tensor(inputs[source], getattr(ms, dtype))})
    ms.save_checkpoint(float8, str(CKPT / "mindspore_float8.ckpt"))
    np.savez_compressed(CKPT / "mindspore_bfloat16_expected.npz", **expected)


if __name__ == "__main__":
    main()

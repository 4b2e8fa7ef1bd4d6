"""Recipe of torch_bf16_f8.safetensors and torch_bf16_f8_expected.npz, written by safetensors.torch
(msparam is never imported here). Run with PyTorch 2.13.0 and safetensors in their own venv:
``python3 -m venv /tmp/pt && /tmp/pt/bin/pip install torch==2.13.0 safetensors numpy``, then, from
this directory, ``/tmp/pt/bin/python make_torch_safetensors.py``.

The tensors are cast by PyTorch from float32 (and one from float64) values that reach rounding ties,
overflow, subnormals, NaN and infinities; the expected file keeps those inputs and PyTorch's bit
patterns of each tensor (uint16 for BF16, uint8 for F8).
"""
import numpy as np
import torch
from safetensors.torch import save_file

rng = np.random.default_rng(20261203)
f32 = np.concatenate([
    rng.standard_normal(64).astype(np.float32) * np.float32(4.0),
    (rng.integers(0, 1 << 16, 32, dtype=np.uint32) << 16 | 0x8000).view(np.float32),  # bfloat16 ties
    np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38, 448.0, 464.0, 57344.0, 2.0 ** -10,
              2.0 ** -17, 0.1, 1 / 3, 1e-40, -240.0], np.float32)])  # 112 values
f64 = (1.0 + rng.integers(0, 128, 32) * 2.0 ** -7 + 2.0 ** -8 + 2.0 ** -30) * rng.choice([-1.0, 1.0], 32)
source = torch.from_numpy(f32)
tensors = {
    "model.embed.weight": source.to(torch.bfloat16).reshape(-1, 7),
    "model.scale": source[:8].to(torch.float8_e4m3fn),
    "model.e4m3": source.to(torch.float8_e4m3fn),
    "model.e5m2": source.to(torch.float8_e5m2).reshape(8, -1),
    "model.from_float64": torch.from_numpy(f64).to(torch.bfloat16),
    "model.bias": source[:5].clone(),
    "model.steps": torch.arange(3, dtype=torch.int64),
}
save_file(tensors, "torch_bf16_f8.safetensors")


def bits(tensor):
    if tensor.dtype == torch.bfloat16:
        return tensor.view(torch.int16).numpy().view(np.uint16)
    if tensor.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
        return tensor.view(torch.uint8).numpy()
    return tensor.numpy()


np.savez_compressed("torch_bf16_f8_expected.npz", input_float32=f32, input_float64=f64,
                    **{name: bits(tensor) for name, tensor in tensors.items()})

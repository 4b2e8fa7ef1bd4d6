"""Generates tests/data/ckpt/mindspore_crc.ckpt, mindspore_crc.safetensors, mindspore_aes_gcm.ckpt, mindspore_aes_cbc.ckpt
with MindSpore 2.10 (run with /tmp/ms/bin/python)."""
import numpy as np, mindspore as ms
from mindspore import Parameter, Tensor
rng = np.random.default_rng(7)
params = [Parameter(Tensor(rng.standard_normal((3, 4)).astype(np.float32)), name="layer.weight"),
          Parameter(Tensor(np.arange(4, dtype=np.int32)), name="layer.bias"),
          Parameter(Tensor(np.array([True, False])), name="mask")]
ms.save_checkpoint(params, "gold/mindspore_crc.ckpt", crc_check=True)
ms.save_checkpoint(params, "gold/mindspore_crc.safetensors", crc_check=True, format="safetensors")
ms.save_checkpoint(params, "gold/mindspore_aes_gcm.ckpt", enc_key=b"0123456789abcdef")
ms.save_checkpoint(params, "gold/mindspore_aes_cbc.ckpt", enc_key=b"0123456789abcdef", enc_mode="AES-CBC")
np.savez("gold/mindspore_crc_expected.npz", **{p.name: p.asnumpy() for p in params})

"""MindSpore's ``mindspore.train``: checkpoint saving and loading."""
from msparam.train.serialization import (async_ckpt_thread_status, load_checkpoint, load_param_into_net,
                                         save_checkpoint, wait_async_save)

__all__ = ["save_checkpoint", "load_checkpoint", "load_param_into_net", "wait_async_save",
           "async_ckpt_thread_status"]

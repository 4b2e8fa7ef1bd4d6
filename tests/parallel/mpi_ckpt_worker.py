"""Run by tests/parallel/test_mpi.py under ``mpiexec -n N`` (or plain python for one process):
sharded saves and resharding loads of a small net.  ``python mpi_ckpt_worker.py MODE DIR``."""
import os
import sys

import numpy as np

import msparam as ms
from msparam import communication, nn
from msparam.common.initializer import Orthogonal, TruncatedNormal


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.first = nn.Dense(16, 12, weight_init=TruncatedNormal(0.2))
        self.second = nn.Dense(12, 8, weight_init=Orthogonal())
        self.table = ms.Parameter(ms.common.initializer.initializer("normal", (6, 4, 8), ms.float16), name="table")


def layouts(size):
    both = [2, 2] if size == 4 else [size, 1]
    return {"first.weight": (both, [1, 0], [12 // both[0], 16 // both[1]], 0, True, ""),
            "first.bias": ([size], [0], [12 // size], 0, True, ""),
            "second.weight": ([size], [-1, 0], [8, 12 // size], 0, True, ""),
            "table": ([size, 1], [-1, (1, 0), -1], [6, 4 // size, 8], 0, True, "")}


def single_process_net(seed):
    ms.reset_auto_parallel_context()
    ms.set_seed(seed)
    return Net()


def sharded_net(seed, size):
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel")
    ms.set_seed(seed)
    net = Net()
    ms.reset_auto_parallel_context()
    return net


def check_slices(net, reference, size, rank):
    """Every Parameter of ``net`` holds this rank's slice of ``reference`` under layouts(size)."""
    from msparam.parallel._layout import parse_layout
    count = 0
    for name, param in net.parameters_and_names():
        full = reference.parameters_dict()[name].asnumpy()
        layout = layouts(size).get(name)
        expected = full if layout is None else full[tuple(slice(*b) for b in parse_layout(layout, full.shape, rank,
                                                                                           size))]
        assert param.asnumpy().tobytes() == expected.tobytes(), (name, rank)
        count += 1
    return count


def main(mode, directory):
    communication.init()
    rank, size = communication.get_rank(), communication.get_group_size()
    reference = single_process_net(5)
    if mode == "save":
        net = sharded_net(5, size)
        net.init_parameters_data(layouts=layouts(size))
        count = check_slices(net, reference, size, rank)
        ms.save_checkpoint(net, os.path.join(directory, "merged.ckpt"))  # integrated_save=True
        ms.save_checkpoint(net, os.path.join(directory, "net.ckpt"), integrated_save=False)
        ms.save_checkpoint(net, os.path.join(directory, "net_st.safetensors"), integrated_save=False,
                           format="safetensors")
    elif mode == "load":
        count = 0
        for source in ("net", "net_st"):
            net = sharded_net(7, size)  # other values: the load must replace every one
            ms.load_distributed_checkpoint(net, predict_strategy=layouts(size),
                                           train_strategy_filename=os.path.join(directory, source))
            count += check_slices(net, reference, size, rank)
        for name in ("single.ckpt", "single.safetensors"):  # the reverse: one single-device file
            net = sharded_net(7, size)
            ms.load_distributed_checkpoint(net, [os.path.join(directory, name)], predict_strategy=layouts(size),
                                           format=name.split(".")[1])
            count += check_slices(net, reference, size, rank)
    elif mode == "save_and_die":
        net = sharded_net(6, size)
        net.init_parameters_data(layouts=layouts(size))
        if rank == size - 1:
            import msparam.parallel._checkpoint as sharded
            finish = sharded.ShardedSave.finish

            def die_after_writing(self, error=None):
                os._exit(3)  # killed with its new file written, before the commit
            sharded.ShardedSave.finish = die_after_writing
        ms.save_checkpoint(net, os.path.join(directory, "net.ckpt"), integrated_save=False)
        count = 0
    elif mode == "missing_shard":
        net = sharded_net(7, size)
        before = {name: param.asnumpy().copy() for name, param in net.parameters_and_names()}
        try:
            ms.load_distributed_checkpoint(net, predict_strategy=layouts(size),
                                           train_strategy_filename=os.path.join(directory, "net"))
        except (ValueError, RuntimeError) as exc:
            assert "misses the shard" in str(exc) or "failed" in str(exc), exc
        else:
            raise AssertionError("a missing shard loaded")
        assert all(np.array_equal(before[name], param.asnumpy()) for name, param in net.parameters_and_names())
        count = 1
    counts = communication.management.world().gather(count)
    if rank == 0:  # one line from one rank: the launcher may interleave several ranks' output
        print(f"ok {mode} {' '.join(map(str, counts))}", flush=True)
    communication.release()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

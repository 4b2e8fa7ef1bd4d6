"""Run by bench/test_bench_parallel_mpi.py under ``mpiexec -n N`` (or plain python for one process):
times a sharded init, a sharded save (integrated_save=False) and a resharding load of a 2^24-element
float32 TruncatedNormal weight split by rows over the ranks.  Rank 0 prints the slowest rank's
seconds per phase: ``times INIT SAVE LOAD``.  ``python mpi_bench_worker.py DIR``."""
import os
import sys
import time

import msparam as ms
from msparam import communication, nn
from msparam.common.initializer import TruncatedNormal

ROWS, COLUMNS = 1 << 12, 1 << 12


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(COLUMNS, ROWS, weight_init=TruncatedNormal(0.02), has_bias=False)


def main(directory):
    communication.init()
    rank, size = communication.get_rank(), communication.get_group_size()
    layouts = {"dense.weight": ([size], [0, -1], [ROWS // size, COLUMNS], 0, True, "")}
    world = communication.management.world()
    world.barrier()
    start = time.perf_counter()
    ms.set_auto_parallel_context(parallel_mode="semi_auto_parallel")
    ms.set_seed(3)
    net = Net()
    net.init_parameters_data(layouts=layouts)
    init_s = time.perf_counter() - start
    world.barrier()
    start = time.perf_counter()
    ms.save_checkpoint(net, os.path.join(directory, "net.ckpt"), integrated_save=False)
    save_s = time.perf_counter() - start
    world.barrier()
    start = time.perf_counter()
    ms.load_distributed_checkpoint(net, predict_strategy=layouts, train_strategy_filename=os.path.join(directory, "net"))
    load_s = time.perf_counter() - start
    ms.reset_auto_parallel_context()
    slowest = [max(phase) for phase in zip(*world.gather((init_s, save_s, load_s)) or [(0, 0, 0)])]
    if rank == 0:
        print("times " + " ".join(f"{s:.6f}" for s in slowest), flush=True)
    communication.release()


if __name__ == "__main__":
    main(sys.argv[1])

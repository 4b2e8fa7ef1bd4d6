"""Forcing another thread's draw into the middle of a call, for the tests of the draw lock
(msparam.common.seed.draw_lock): tests/common/test_random.py, tests/parallel/test_parallel_slices.py."""
import threading

from msparam.common.seed import next_stream_seed


def drawing_meanwhile(function, seeds, threads):
    """``function`` preceded by a stream-seed draw in another thread (appended to ``seeds``; the
    thread to ``threads``), given 0.3 s to finish: it waits instead when the caller holds the
    draw lock, so a draw that lands in ``seeds`` before ``function`` runs shows the lock missing."""
    def wrapped(*args):
        other = threading.Thread(target=lambda: seeds.append(next_stream_seed()))
        other.start()
        threads.append(other)
        other.join(0.3)
        return function(*args)
    return wrapped

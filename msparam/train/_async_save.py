"""Asynchronous checkpoint saves (``save_checkpoint(..., async_save=True/'thread'/'process')``).

The data is snapshotted when ``save_checkpoint`` is called: a thread save writes copies of the
arrays; a process save forks, and the child's copy-on-write view of memory is the snapshot. One
save runs at a time: every ``save_checkpoint`` first waits for the one in flight, and so does
:func:`wait_async_save`, which also raises the error of a save that failed (a failure is reported
once, by whichever of the two comes first).
"""
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Union

# A save: ``save(num_threads)`` writes the snapshot (None: msparam's thread count).
Save = Callable[["int | None"], None]
_Worker = Union[threading.Thread, BaseProcess]

__all__ = ["start", "wait_async_save", "async_ckpt_thread_status"]

_lock = threading.Lock()        # guards _pending
_start_lock = threading.Lock()  # one start at a time: wait for the save in flight, then replace it
_pending: "tuple[str, _Worker, list[BaseException]] | None" = None  # (path, thread or process, failure box)


def _run_in_thread(path: str, save: Save) -> tuple[_Worker, list[BaseException]]:
    failure: list[BaseException] = []

    def target() -> None:
        try:
            save(None)
        except BaseException as exc:  # reported by wait_async_save / the next save
            failure.append(exc)

    worker = threading.Thread(target=target, name="msparam_async_save_ckpt")
    worker.start()
    return worker, failure


def _child(save: Save) -> None:
    save(1)  # libgomp's thread pool does not survive fork: the child writes with one thread


def _run_in_process(path: str, save: Save) -> tuple[_Worker, list[BaseException]]:
    worker = multiprocessing.get_context("fork").Process(target=_child, args=(save,),
                                                           name="msparam_async_save_ckpt")
    worker.start()
    return worker, []


def start(path: str, save: Save, mode: str) -> None:
    """Wait for the save in flight, then run ``save(num_threads)`` in a thread or a forked process
    (``mode`` 'thread' or 'process'); ``save`` must already hold a snapshot of the data (or, for a
    process, data nobody changes before the fork, which happens here)."""
    global _pending
    with _start_lock:
        wait_async_save()
        runner = _run_in_process if mode == "process" else _run_in_thread
        worker, failure = runner(path, save)
        with _lock:
            _pending = (path, worker, failure)


def wait_async_save() -> None:
    """Block until the asynchronous checkpoint save in flight (if any) has finished.

    Raises
    ------
    RuntimeError
        The save failed; the message names the file, and the original error is chained. The
        previous checkpoint at that path, if any, is left as it was.
    """
    global _pending
    with _lock:
        pending, _pending = _pending, None
    if pending is None:
        return
    path, worker, failure = pending
    worker.join()
    if isinstance(worker, threading.Thread):
        if failure:
            raise RuntimeError(f"For 'save_checkpoint', the asynchronous save to {path} failed: "
                               f"{type(failure[0]).__name__}: {failure[0]}") from failure[0]
    elif worker.exitcode != 0:
        raise RuntimeError(f"For 'save_checkpoint', the asynchronous save to {path} failed: its process "
                           f"exited with code {worker.exitcode} (its error is on standard error)")


def async_ckpt_thread_status() -> bool:
    """MindSpore's ``async_ckpt_thread_status()``: True while an asynchronous save is running."""
    with _lock:
        pending = _pending
    return pending is not None and pending[1].is_alive()

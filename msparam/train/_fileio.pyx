"""Move tensor bytes between a file and an array's buffer: parallel ``pread``/``pwrite``.

The callers (``_ckpt_format``) have already checked that a read range lies inside the file and
that buffers are C-contiguous byte views of exactly the right length. Destinations get their
huge-page advice where they are allocated (msparam's Storage, NumPy), not here.

Writes start the disk writeback of each piece as soon as it is in the page cache: every
checkpoint is fsynced, and without this the kernel would only begin writing at the fsync (a 1 GB
file stays under its dirty-page threshold), so the copy and the disk would take turns instead
of overlapping. The pages stay cached, so loading a checkpoint just saved needs no disk read.
"""
from cython.parallel cimport prange
from libc.errno cimport errno

cdef extern from "<unistd.h>" nogil:
    ssize_t pread(int fd, void* buf, size_t count, long long offset)
    ssize_t pwrite(int fd, const void* buf, size_t count, long long offset)

cdef extern from *:
    """
    #if defined(__linux__)
    #include <fcntl.h>
    /* Asynchronous: queues the range for writeback and returns; the later fsync still waits. */
    static void msparam_start_writeback(int fd, long long offset, long long length) {
        (void)sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
    }
    #else
    static void msparam_start_writeback(int fd, long long offset, long long length) {
        (void)fd; (void)offset; (void)length;
    }
    #endif
    """
    void msparam_start_writeback(int fd, long long offset, long long length) nogil

cdef enum:
    PIECE = 32 * 1024 * 1024      # bytes one thread reads per pread loop
    WRITE_PIECE = 8 * 1024 * 1024  # bytes one thread writes before starting their writeback
    WRITEBACK_MIN = 1024 * 1024   # smaller writes are left to the fsync: thousands of tiny
                                  # writebacks would make the next write wait on pages in flight


cdef Py_ssize_t _pread_all(int fd, char* dest, Py_ssize_t count, long long offset) noexcept nogil:
    """Read exactly ``count`` bytes; returns 0, -1 on end of file, or errno."""
    cdef ssize_t got
    while count > 0:
        got = pread(fd, dest, count, offset)
        if got == 0:
            return -1
        if got < 0:
            if errno == 4:  # EINTR
                continue
            return errno
        dest += got
        offset += got
        count -= got
    return 0


def read_into(int fd, unsigned char[::1] destination not None, long long offset, int num_threads):
    """Fill ``destination`` with the file's bytes from ``offset``.

    Returns 0 on success, -1 when the file ended early, or an errno (the first piece's failure
    when reading in parallel: -1 for every failed piece there).
    """
    cdef Py_ssize_t total = destination.shape[0]
    if total == 0:
        return 0
    cdef char* base = <char*>&destination[0]
    cdef Py_ssize_t pieces = (total + PIECE - 1) // PIECE
    cdef Py_ssize_t i, length, status = 0, failures = 0
    if pieces == 1 or num_threads <= 1:
        with nogil:
            status = _pread_all(fd, base, total, offset)
        return status
    with nogil:
        for i in prange(pieces, num_threads=num_threads, schedule="dynamic"):
            length = total - i * PIECE
            if length > PIECE:
                length = PIECE
            failures += _pread_all(fd, base + i * PIECE, length, offset + i * PIECE) != 0
    return -1 if failures else 0


cdef Py_ssize_t _pwrite_all(int fd, const char* source, Py_ssize_t count, long long offset) noexcept nogil:
    """Write exactly ``count`` bytes and start their writeback if large; returns 0 or errno."""
    cdef ssize_t put
    cdef Py_ssize_t length = count
    cdef long long start = offset
    while count > 0:
        put = pwrite(fd, source, count, offset)
        if put < 0:
            if errno == 4:  # EINTR
                continue
            return errno
        if put == 0:
            return 28  # ENOSPC: a zero-byte write makes no progress
        source += put
        offset += put
        count -= put
    if length >= WRITEBACK_MIN:
        msparam_start_writeback(fd, start, length)
    return 0


def write_from(int fd, const unsigned char[::1] source not None, long long offset, int num_threads):
    """Write ``source`` to the file at ``offset``; returns 0 or an errno (-1: a parallel piece failed)."""
    cdef Py_ssize_t total = source.shape[0]
    if total == 0:
        return 0
    cdef const char* base = <const char*>&source[0]
    cdef Py_ssize_t pieces = (total + WRITE_PIECE - 1) // WRITE_PIECE
    cdef Py_ssize_t i, length, status = 0, failures = 0
    if pieces == 1 or num_threads <= 1:
        with nogil:
            for i in range(pieces):
                length = total - i * WRITE_PIECE
                if length > WRITE_PIECE:
                    length = WRITE_PIECE
                status = _pwrite_all(fd, base + i * WRITE_PIECE, length, offset + i * WRITE_PIECE)
                if status:
                    break
        return status
    with nogil:
        for i in prange(pieces, num_threads=num_threads, schedule="dynamic"):
            length = total - i * WRITE_PIECE
            if length > WRITE_PIECE:
                length = WRITE_PIECE
            failures += _pwrite_all(fd, base + i * WRITE_PIECE, length, offset + i * WRITE_PIECE) != 0
    return -1 if failures else 0

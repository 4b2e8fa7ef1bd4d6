"""Move tensor bytes between a file and an array's buffer: parallel ``pread``/``pwrite``, with the
CRC-32 of the bytes computed on the way (while each 1 MiB sub-piece is still in cache).

The callers (the format modules) have already checked that a read range lies inside the file and
that buffers are C-contiguous byte views of exactly the right length. Destinations get their
huge-page advice where they are allocated (msparam's Storage, NumPy), not here.

Writes start the disk writeback of each piece as soon as it is in the page cache: every
checkpoint is fsynced, and without this the kernel would only begin writing at the fsync (a 1 GB
file stays under its dirty-page threshold), so the copy and the disk would take turns instead
of overlapping. The pages stay cached, so loading a checkpoint just saved needs no disk read.

Every failure is reported with its real errno (a short read as ``-1``: the file ended), also
from the parallel paths, where the first failing piece in file order wins.
"""
import numpy as np

from cython.parallel cimport prange
from libc.errno cimport errno, EINTR, ENOSPC
from libc.stdint cimport uint32_t, uint64_t
from posix.types cimport off_t

cdef extern from "<unistd.h>" nogil:
    ssize_t pread(int fd, void* buf, size_t count, off_t offset)
    ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset)

cdef extern from "crc32.h" nogil:
    void msp_crc32_init()
    uint32_t msp_crc32(uint32_t crc, const unsigned char* p, size_t n)
    uint32_t msp_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b)

cdef extern from *:
    """
    #if defined(__linux__)
    #include <fcntl.h>
    /* Asynchronous: queues the range for writeback and returns; the later fsync still waits. */
    static void msparam_start_writeback(int fd, off_t offset, off_t length) {
        (void)sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
    }
    #else
    static void msparam_start_writeback(int fd, off_t offset, off_t length) {
        (void)fd; (void)offset; (void)length;
    }
    #endif
    """
    void msparam_start_writeback(int fd, off_t offset, off_t length) nogil

cdef enum:
    PIECE = 32 * 1024 * 1024      # bytes one thread reads per task
    WRITE_PIECE = 8 * 1024 * 1024  # bytes one thread writes before starting their writeback
    CRC_STEP = 1024 * 1024        # bytes read or written before their CRC: still in L2
    WRITEBACK_MIN = 1024 * 1024   # smaller writes are left to the fsync: thousands of tiny
                                  # writebacks would make the next write wait on pages in flight
    MAX_PIECES = 1 << 20          # per call; 32 TiB of reads, 8 TiB of writes

msp_crc32_init()


cdef Py_ssize_t _pread_all(int fd, unsigned char* dest, Py_ssize_t count, off_t offset,
                           uint32_t* crc) noexcept nogil:
    """Read exactly ``count`` bytes, extending ``*crc``; returns 0, -1 on end of file, or errno."""
    cdef ssize_t got
    cdef Py_ssize_t step
    while count > 0:
        step = CRC_STEP if count > CRC_STEP else count
        got = pread(fd, dest, step, offset)
        if got == 0:
            return -1
        if got < 0:
            if errno == EINTR:
                continue
            return errno
        crc[0] = msp_crc32(crc[0], dest, got)
        dest += got
        offset += got
        count -= got
    return 0


cdef Py_ssize_t _pwrite_all(int fd, const unsigned char* source, Py_ssize_t count, off_t offset,
                            uint32_t* crc) noexcept nogil:
    """Write exactly ``count`` bytes, extend ``*crc`` and start their writeback if large;
    returns 0 or errno."""
    cdef ssize_t put
    cdef Py_ssize_t step, length = count
    cdef off_t start = offset
    while count > 0:
        step = CRC_STEP if count > CRC_STEP else count
        put = pwrite(fd, source, step, offset)
        if put < 0:
            if errno == EINTR:
                continue
            return errno
        if put == 0:
            return ENOSPC  # a zero-byte write makes no progress
        crc[0] = msp_crc32(crc[0], source, put)
        source += put
        offset += put
        count -= put
    if length >= WRITEBACK_MIN:
        msparam_start_writeback(fd, start, length)
    return 0


cdef object _run_pieces(int fd, unsigned char* base, Py_ssize_t total, off_t offset, int num_threads,
                        Py_ssize_t piece, bint writing):
    """Move ``total`` bytes in pieces of ``piece`` bytes, in parallel when worth it; returns
    ``(status, crc)`` with the first failing piece's status and the CRC-32 of all the bytes."""
    cdef Py_ssize_t pieces = (total + piece - 1) // piece
    cdef Py_ssize_t i, length, status = 0
    cdef uint32_t crc = 0
    if pieces == 1 or num_threads <= 1:
        with nogil:
            for i in range(pieces):
                length = total - i * piece
                if length > piece:
                    length = piece
                if writing:
                    status = _pwrite_all(fd, base + i * piece, length, offset + i * piece, &crc)
                else:
                    status = _pread_all(fd, base + i * piece, length, offset + i * piece, &crc)
                if status:
                    break
        return status, crc
    if pieces > MAX_PIECES:
        raise ValueError(f"a single transfer of {total} bytes is too large")
    cdef long long[::1] piece_status = np.zeros(pieces, np.int64)
    cdef uint32_t[::1] piece_crc = np.zeros(pieces, np.uint32)
    with nogil:
        for i in prange(pieces, num_threads=num_threads, schedule="dynamic"):
            length = total - i * piece
            if length > piece:
                length = piece
            if writing:
                piece_status[i] = _pwrite_all(fd, base + i * piece, length, offset + i * piece, &piece_crc[i])
            else:
                piece_status[i] = _pread_all(fd, base + i * piece, length, offset + i * piece, &piece_crc[i])
        for i in range(pieces):
            if piece_status[i]:
                status = piece_status[i]
                break
            length = total - i * piece
            if length > piece:
                length = piece
            crc = msp_crc32_combine(crc, piece_crc[i], length)
    return status, crc


def read_into(int fd, unsigned char[::1] destination not None, off_t offset, int num_threads):
    """Fill ``destination`` with the file's bytes from ``offset``.

    Returns ``(status, crc)``: status 0 on success, -1 when the file ended early, or the errno
    of the failure (of the first failing piece in file order when reading in parallel); crc is
    the CRC-32 (``zlib.crc32``) of the bytes, valid when status is 0.
    """
    cdef Py_ssize_t total = destination.shape[0]
    if total == 0:
        return 0, 0
    return _run_pieces(fd, &destination[0], total, offset, num_threads, PIECE, False)


def write_from(int fd, const unsigned char[::1] source not None, off_t offset, int num_threads):
    """Write ``source`` to the file at ``offset``.

    Returns ``(status, crc)``: status 0 or the errno of the failure (of the first failing piece
    in file order when writing in parallel); crc is the CRC-32 of the bytes.
    """
    cdef Py_ssize_t total = source.shape[0]
    if total == 0:
        return 0, 0
    return _run_pieces(fd, <unsigned char*>&source[0], total, offset, num_threads, WRITE_PIECE, True)


def crc32(const unsigned char[::1] data not None, unsigned int crc=0, int num_threads=1):
    """``zlib.crc32(data, crc)``, several times faster where the CPU has carry-less multiply,
    and split over ``num_threads`` threads for large buffers."""
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t pieces = (n + WRITE_PIECE - 1) // WRITE_PIECE
    cdef Py_ssize_t i, length
    cdef uint32_t result = crc
    if n == 0:
        return crc
    if pieces == 1 or num_threads <= 1:
        with nogil:
            result = msp_crc32(crc, &data[0], n)
        return result
    cdef uint32_t[::1] piece_crc = np.zeros(pieces, np.uint32)
    with nogil:
        for i in prange(pieces, num_threads=num_threads, schedule="dynamic"):
            length = n - i * WRITE_PIECE
            if length > WRITE_PIECE:
                length = WRITE_PIECE
            piece_crc[i] = msp_crc32(0, &data[i * WRITE_PIECE], length)
        for i in range(pieces):
            length = n - i * WRITE_PIECE
            if length > WRITE_PIECE:
                length = WRITE_PIECE
            result = msp_crc32_combine(result, piece_crc[i], length)
    return result


def crc32_combine(unsigned int crc_a, unsigned int crc_b, unsigned long long length_b):
    """The CRC-32 of A followed by B, from ``crc32(A)``, ``crc32(B)`` and ``len(B)``."""
    return msp_crc32_combine(crc_a, crc_b, length_b)

"""The ``.ckpt`` framing in compiled code: the plain ``Checkpoint.Value`` records of a read window.

A plain record is what every MindSpore and msparam writer produces for a tensor of at most one
slice: field 1 (a length-delimited ``Value``) holding one tag and one ``TensorProto`` with
unpacked dims, one tensor_type the caller knows and one tensor_content of exactly the bytes the
dims need, all inside the window, its tag valid UTF-8 and different from the previous record's.
The scan stops before the first record that is anything else (a marker, an unknown field, a packed
or negative dim, a repeated field, a slice of a large tensor, a string or ``random_op`` entry, a
record reaching past the window, a damaged one): the Python parser (``_ckpt_file``) reads that
one, with its exact error messages, and the scan resumes after it. So this module never raises
for a bad file; it only decides how far the fast path may go. Every record it passes over is
returned, so a call costs the records it returns plus one: no hostile layout makes the scan and
the Python parser re-read the same records.
"""
from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint64_t
from libc.string cimport memcpy

cdef enum:
    WIRE_VARINT = 0
    WIRE_BYTES = 2
    VALUE_KEY = 1 << 3 | WIRE_BYTES     # Checkpoint.value, and Value.tag
    TENSOR_KEY = 2 << 3 | WIRE_BYTES    # Value.tensor, and TensorProto.tensor_type
    DIM_KEY = 1 << 3 | WIRE_VARINT      # TensorProto.dims, unpacked
    CONTENT_KEY = 3 << 3 | WIRE_BYTES   # TensorProto.tensor_content

cdef uint64_t INT64_LIMIT = (<uint64_t>1) << 63


cdef inline bint read_varint(const unsigned char* p, Py_ssize_t stop, Py_ssize_t* i, uint64_t* out) noexcept nogil:
    """Protobuf's base-128 varint at ``p[i[0]]`` (at most 10 bytes, before ``stop``); bits past
    the 64th are dropped, as protobuf drops them."""
    cdef uint64_t result = 0
    cdef int shift = 0
    cdef Py_ssize_t j = i[0]
    cdef Py_ssize_t last = j + 10 if stop - j > 10 else stop
    cdef unsigned char byte
    while j < last:
        byte = p[j]
        j += 1
        if shift < 64:
            result |= (<uint64_t>(byte & 0x7F)) << shift
        if byte < 0x80:
            i[0] = j
            out[0] = result
            return True
        shift += 7
    return False


cdef inline bint read_length(const unsigned char* p, Py_ssize_t stop, Py_ssize_t* i, Py_ssize_t* out) noexcept nogil:
    """A length prefix whose bytes fit before ``stop``."""
    cdef uint64_t length
    if not read_varint(p, stop, i, &length) or length > <uint64_t>(stop - i[0]):
        return False
    out[0] = <Py_ssize_t>length
    return True


cdef struct Record:
    Py_ssize_t tag_at, tag_len, type_at, type_len, content_at, content_len, end
    Py_ssize_t ndim
    uint64_t count      # elements (0 when a dim is 0), overflow-checked
    uint64_t dims[64]


cdef bint plain_tensor(const unsigned char* p, Py_ssize_t i, Py_ssize_t stop, Py_ssize_t max_ndim,
                       Record* record) noexcept nogil:
    """Fill ``record``'s dims, type and content from the TensorProto at ``[i, stop)``, if plain."""
    cdef uint64_t key, dim
    cdef bint empty = False
    record.ndim = 0
    record.count = 1
    record.type_at = record.content_at = -1
    while i < stop:
        if not read_varint(p, stop, &i, &key):
            return False
        if key == DIM_KEY:
            if not read_varint(p, stop, &i, &dim) or dim >= INT64_LIMIT or record.ndim == max_ndim:
                return False
            if dim == 0:
                empty = True
            elif record.count > (INT64_LIMIT - 1) // dim:
                return False  # the Python parser names the impossible shape
            else:
                record.count *= dim
            record.dims[record.ndim] = dim
            record.ndim += 1
        elif key == TENSOR_KEY and record.type_at < 0:
            if not read_length(p, stop, &i, &record.type_len):
                return False
            record.type_at = i
            i += record.type_len
        elif key == CONTENT_KEY and record.content_at < 0:
            if not read_length(p, stop, &i, &record.content_len):
                return False
            record.content_at = i
            i += record.content_len
        else:
            return False
    if empty:
        record.count = 0
    return record.type_at >= 0 and record.content_at >= 0


cdef bint plain_value(const unsigned char* p, Py_ssize_t i, Py_ssize_t stop, Py_ssize_t max_ndim,
                      Record* record) noexcept nogil:
    """Frame the record at ``p[i]``: one ``Checkpoint.value`` holding one tag and one plain tensor."""
    cdef uint64_t key
    cdef Py_ssize_t length, value_end, tensor_at = -1, tensor_len = 0
    if not read_varint(p, stop, &i, &key) or key != VALUE_KEY or not read_length(p, stop, &i, &length):
        return False
    value_end = i + length
    record.tag_at = -1
    while i < value_end:
        if not read_varint(p, value_end, &i, &key):
            return False
        if key == VALUE_KEY and record.tag_at < 0:
            if not read_length(p, value_end, &i, &record.tag_len):
                return False
            record.tag_at = i
            i += record.tag_len
        elif key == TENSOR_KEY and tensor_at < 0:
            if not read_length(p, value_end, &i, &tensor_len):
                return False
            tensor_at = i
            i += tensor_len
        else:
            return False
    record.end = value_end
    return record.tag_at >= 0 and tensor_at >= 0 and plain_tensor(p, tensor_at, tensor_at + tensor_len,
                                                                 max_ndim, record)


cdef void copy_tensor(object destination, const unsigned char* source, Py_ssize_t length, bint is_bool) except *:
    """Copy ``length`` bytes into ``destination`` (a C-contiguous writable buffer of exactly that
    size, as ``allocate`` promises; checked); bools other than 0/1 become 1, as a C++ reader sees them."""
    cdef Py_buffer view
    cdef Py_ssize_t k
    cdef unsigned char* out
    PyObject_GetBuffer(destination, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)
    try:
        if view.len != length:
            raise ValueError(f"allocate gave a buffer of {view.len} bytes for a tensor of {length}")
        if length:
            memcpy(view.buf, source, length)
            if is_bool:
                out = <unsigned char*>view.buf
                for k in range(length):
                    out[k] = out[k] != 0
    finally:
        PyBuffer_Release(&view)


def plain_entries(const unsigned char[::1] window, Py_ssize_t base, Py_ssize_t pos, Py_ssize_t end,
                  Py_ssize_t max_ndim, dict types, str previous_tag, str excluded_tag,
                  object wanted, object allocate, bint describe):
    """Read the plain records from file byte ``pos`` on, in ``window`` (the file's bytes from
    ``base``) and before file byte ``end``.

    ``types`` maps a tensor_type's bytes to ``(numpy dtype, name)``; a record of another type, with
    ``excluded_tag``, or with the tag of the record before it (``previous_tag`` for the first)
    ends the scan. Each tensor ``wanted(tag)`` (all when ``wanted`` is None) is copied into
    ``allocate(shape, numpy dtype)``.

    Returns ``(entries, last, position after the last record)``: ``entries`` are ``(tag, array)``,
    or ``(tag, numpy dtype, type name, shape, content start in the window, content length)`` when
    ``describe`` (nothing is allocated then); ``last`` is
    ``(key start, tag, shape, type name, content length)`` of the last record, or None.
    """
    if max_ndim > 64 or pos < base or end < pos:
        raise ValueError("plain_entries: max_ndim above 64, or pos outside [base, end]")
    cdef const unsigned char* p = &window[0] if window.shape[0] else NULL
    cdef Py_ssize_t stop = min(end - base, window.shape[0])
    cdef Py_ssize_t i = pos - base, d
    cdef Record record
    entries = []
    last = None
    while i < stop:
        if not plain_value(p, i, stop, max_ndim, &record):
            break
        known = types.get(p[record.type_at:record.type_at + record.type_len])
        if known is None:
            break
        np_dtype, type_name = known
        if record.count > <uint64_t>record.content_len // <uint64_t>np_dtype.itemsize or \
                record.count * <uint64_t>np_dtype.itemsize != <uint64_t>record.content_len:
            break
        try:
            tag = PyUnicode_DecodeUTF8(<const char*>p + record.tag_at, record.tag_len, NULL)
        except UnicodeDecodeError:
            break
        if tag == previous_tag or tag == excluded_tag:
            break
        shape = tuple([record.dims[d] for d in range(record.ndim)])
        if describe:
            entries.append((tag, np_dtype, type_name, shape, record.content_at, record.content_len))
        elif wanted is None or wanted(tag):
            array = allocate(shape, np_dtype)
            copy_tensor(array, p + record.content_at, record.content_len, np_dtype.kind == "b")
            entries.append((tag, array))
        last = (base + i, tag, shape, type_name, record.content_len)
        previous_tag = tag
        i = record.end
    return entries, last, base + i

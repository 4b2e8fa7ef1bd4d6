"""The compiled .ckpt scan hands each record it cannot read plainly to the Python parser: the
answers and errors are the parser's whatever mix of records a file holds."""
import numpy as np
import pytest

from msparam.train import _ckpt_file


# one record's bytes, built the way the hardening tests build their hostile files
from test_checkpoint_hardening import value_record as record, varint


def read(tmp_path, data):
    path = tmp_path / "m.ckpt"
    path.write_bytes(data)
    return dict(_ckpt_file.read_checkpoint(str(path))[0])


def test_bools_other_than_0_and_1_read_as_true_on_the_fast_path(tmp_path):
    got = read(tmp_path, record(b"mask", [4], b"Bool", b"\x00\x01\x02\xff"))
    np.testing.assert_array_equal(got["mask"], [False, True, True, True])
    assert got["mask"].view(np.uint8).tolist() == [0, 1, 1, 1]


def test_plain_records_between_slices_strings_and_unknown_fields(tmp_path):
    data = (record(b"a", [2], b"Int8", b"\x01\x02")
            + record(b"big", [4], b"Int16", b"\x01\x00\x02\x00") + record(b"big", [4], b"Int16", b"\x03\x00\x04\x00")
            + b"\x10\x05"  # an unknown varint field: skipped, as protobuf skips it
            + record(b"b", [], b"Float32", np.float32(2.5).tobytes())
            + record(b"note", [0], b"str", np.array("hi").tobytes())
            + record(b"c", [1, 0], b"Float64", b""))
    got = read(tmp_path, data)
    assert list(got) == ["a", "big", "b", "note", "c"]
    np.testing.assert_array_equal(got["big"], [1, 2, 3, 4])
    assert got["b"].shape == () and got["b"] == 2.5
    assert got["note"] == "hi" and got["c"].shape == (1, 0)


def test_a_plain_record_repeated_is_refused_as_a_duplicate(tmp_path):
    data = record(b"w", [2], b"Int8", b"\x01\x02") + record(b"w", [2], b"Int8", b"\x01\x02")
    with pytest.raises(ValueError, match="stored twice in a row"):
        read(tmp_path, data)


def test_a_record_whose_tag_is_not_utf8_gets_the_parsers_error(tmp_path):
    data = record(b"ok", [1], b"Int8", b"\x01") + record(b"\xff\xfe", [1], b"Int8", b"\x01")
    with pytest.raises(ValueError, match="not valid UTF-8"):
        read(tmp_path, data)


def test_describe_gives_the_records_without_their_bytes(tmp_path):
    path = tmp_path / "m.ckpt"
    path.write_bytes(record(b"a", [2, 3], b"Float32", bytes(24)) + record(b"s", [0], b"str", b"x\0\0\0"))
    assert _ckpt_file.describe_checkpoint(str(path)) == [("a", "Float32", (2, 3))]


def test_locate_gives_strings_and_random_op_as_values_and_tensors_where_they_lie(tmp_path):
    path = tmp_path / "m.ckpt"
    path.write_bytes(record(b"a", [2], b"Int8", b"\x01\x02") + record(b"s", [0], b"str", b"x\0\0\0")
                     + record(b"random_op", [3], b"UInt8", b"\x07\x08\x09"))
    located = dict(_ckpt_file.locate_checkpoint(str(path)))
    assert located["s"] == "x" and located["random_op"] == b"\x07\x08\x09"
    assert located["a"].shape == (2,) and located["a"].nbytes == 2


def test_writing_located_bytes_without_their_files_descriptor_names_sources(tmp_path):
    path = tmp_path / "m.ckpt"
    path.write_bytes(record(b"a", [2], b"Int8", b"\x01\x02"))
    located = list(_ckpt_file.locate_checkpoint(str(path)))
    with open(tmp_path / "out.ckpt", "wb") as f, pytest.raises(TypeError, match="'sources'"):
        _ckpt_file.write_checkpoint(f, located)

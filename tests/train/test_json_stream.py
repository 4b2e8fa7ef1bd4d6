"""The windowed JSON object scanner the safetensors reader parses headers with: the members of
``json.loads``, whatever the window's size and wherever it cuts the text."""
import json

import pytest

from msparam.train import _json_stream

DOCUMENTS = [
    '{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"U8","shape":[],"data_offsets":[24,25]}}',
    '  {  "__metadata__" : {"crc_num":"12", "x":"y\\"z"} ,\n\t"n\\u00e9\\ud83d\\ude00" : [1, 2.5, true, null]  }   ',
    '{"é€😀":"ü","":{},"k":"\\\\\\/\\b\\f\\n\\r\\t"}' + " " * 40,
    "{}",
    " { } ",
]


def members(text, window_bytes, limit, monkeypatch, tmp_path):
    monkeypatch.setattr(_json_stream, "_WINDOW_BYTES", window_bytes)
    monkeypatch.setattr(_json_stream, "MEMBER_LIMIT", limit)
    path = tmp_path / "doc.json"
    raw = text.encode("utf-8")
    path.write_bytes(b"#" * 3 + raw + b"tail")  # the object lies inside the file
    with open(path, "rb") as f:
        return list(_json_stream.object_members(f.fileno(), 3, 3 + len(raw), ValueError))


@pytest.mark.parametrize("text", DOCUMENTS)
@pytest.mark.parametrize("window_bytes, limit", [(1 << 20, 1 << 18), (80, 52), (64, 52)])
def test_members_are_those_of_json_loads(text, window_bytes, limit, monkeypatch, tmp_path):
    expected = list(json.loads(text).items())
    assert members(text, window_bytes, limit, monkeypatch, tmp_path) == expected


@pytest.mark.parametrize("text", ['{"a":1,}', '{"a":1', '{"a" 1}', '[1]', '{"a":1} x', '{"a":01}', '{"a":[1,]}',
                                  '{"a":"\x01"}', '{"a":' + "[" * 100_000 + "]" * 100_000 + "}", '', '{"a":12}}'])
def test_invalid_json_is_refused(text, monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="not valid JSON"):
        members(text, 1 << 20, 1 << 18, monkeypatch, tmp_path)


def test_invalid_utf8_and_an_overlong_member_are_refused(monkeypatch, tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"a":"\xff"}')
    with open(path, "rb") as f, pytest.raises(ValueError, match="not valid UTF-8"):
        list(_json_stream.object_members(f.fileno(), 0, 9, ValueError))
    with pytest.raises(ValueError, match="longer than 16 characters"):
        members('{"a":"' + "x" * 200 + '"}', 64, 16, monkeypatch, tmp_path)

"""README.md's layout table names what is in the tree, and only that."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def layout_paths():
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Layout"):].split("\n## ", 1)[0]
    paths = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            paths.update(re.findall(r"`([^`]+)`", row.split("|")[1]))
    return paths


def test_every_layout_path_exists():
    missing = sorted(path for path in layout_paths() if not (ROOT / path.rstrip("/")).exists())
    assert not missing


def test_every_part_of_the_package_is_in_the_layout():
    listed = layout_paths()
    parts = [p for p in (ROOT / "msparam").iterdir()
             if p.name != "__pycache__" and (p.is_dir() or p.suffix == ".py")]
    unlisted = sorted(p.relative_to(ROOT).as_posix() + ("/" if p.is_dir() else "") for p in parts)
    unlisted = [path for path in unlisted if path not in listed]
    assert not unlisted

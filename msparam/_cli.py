"""The ``msparam`` command: ``msparam inspect FILE``, ``msparam convert SRC DST``, ``msparam diff A B``.

Errors in the files or the arguments print one line to stderr and exit with status 1 (2 for usage
errors, as argparse does); no traceback.
"""
import argparse
import json
import re
import sys
from collections.abc import Sequence

from msparam.common import dtype as mstype
from msparam.train import checkpoint_tools


def _inspect(args: argparse.Namespace) -> None:
    entries = checkpoint_tools.inspect_checkpoint(args.file)
    total_bytes = sum(e["bytes"] for e in entries)
    total_count = sum(e["count"] for e in entries)
    if args.json:
        print(json.dumps({"tensors": entries, "bytes": total_bytes, "parameters": total_count}, indent=1))
        return
    width = max((len(e["name"]) for e in entries), default=4)
    for e in entries:
        print(f"{e['name']:<{width}}  {e['dtype']:<9} {str(tuple(e['shape'])):<20} {e['bytes']:>14,} B")
    print(f"{len(entries)} tensors, {total_count:,} parameters, {total_bytes:,} bytes")


def _rename_rule(text: str) -> tuple[str, str]:
    pattern, sep, replacement = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--rename {text!r} must be PATTERN=REPLACEMENT")
    try:
        re.compile(pattern)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"--rename pattern {pattern!r} is not a regular expression: {e}") from None
    return pattern, replacement


def _name_map(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as f:
            mapping = json.load(f)
    except (OSError, ValueError) as e:
        raise argparse.ArgumentTypeError(f"--map {path!r} cannot be read as JSON: {e}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise argparse.ArgumentTypeError(f"--map {path!r} must hold a JSON object of name -> new name")
    return mapping


def _dtype(name: str) -> mstype.Type:
    value = getattr(mstype, name, None)
    if not isinstance(value, mstype.Type):
        raise argparse.ArgumentTypeError(f"--dtype {name!r} is not an msparam dtype (e.g. float16)")
    return value


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _byte_size(text: str) -> int:
    """``5GB``, ``500MiB`` or a number of bytes (Hugging Face's units: GB is 10**9)."""
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _SIZE_UNITS or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"--max-shard-size {text!r} must be a positive size such as 5GB, "
                                         f"500MiB or 1000000")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]


def _convert(args: argparse.Namespace) -> None:
    count = checkpoint_tools.convert_checkpoint(args.src, args.dst, renames=args.rename, name_map=args.map,
                                                dtype=args.dtype, max_shard_size=args.max_shard_size,
                                                quiet=args.quiet)
    if not args.quiet:
        print(f"wrote {count} tensors to {args.dst}")


def _diff(args: argparse.Namespace) -> int:
    result = checkpoint_tools.diff_checkpoints(args.a, args.b)
    for name in result["only_a"]:
        print(f"only in A: {name}")
    for name in result["only_b"]:
        print(f"only in B: {name}")
    for name, what in result["mismatched"]:
        print(f"mismatch:  {name}: {what}")
    for name, diff in result["max_abs_diff"].items():
        nan_count = result["nan_in_one"].get(name)
        nan_note = f", NaN in only one at {nan_count} position{'s' * (nan_count != 1)}" if nan_count else ""
        print(f"{name}: max |A-B| = {diff:g}{nan_note}")
    differs = (result["only_a"] or result["only_b"] or result["mismatched"] or any(result["max_abs_diff"].values())
               or result["nan_in_one"])
    return 1 if differs else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="msparam", description="Inspect, convert and compare checkpoints "
                                     "(.ckpt, .safetensors) without MindSpore or PyTorch.")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="names, dtypes, shapes and sizes of a checkpoint's tensors")
    inspect.add_argument("file")
    inspect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    inspect.set_defaults(run=_inspect)
    convert = commands.add_parser("convert", help="convert between .ckpt, .safetensors and sharded safetensors "
                                  "(DST model.safetensors.index.json or param_name_map.json)")
    convert.add_argument("src")
    convert.add_argument("dst")
    convert.add_argument("--rename", type=_rename_rule, action="append", default=[],
                         metavar="PATTERN=REPLACEMENT", help="regex rename, repeatable, applied in order")
    convert.add_argument("--map", type=_name_map, metavar="FILE.json", help="exact name -> new name")
    convert.add_argument("--dtype", type=_dtype, help="cast every tensor to this dtype")
    convert.add_argument("--max-shard-size", type=_byte_size, metavar="SIZE",
                         help="for a sharded DST: bytes of tensor data per shard (default 5GB)")
    convert.add_argument("--quiet", action="store_true",
                         help="no progress bar (shown on stderr when tqdm is installed) and no summary line")
    convert.set_defaults(run=_convert)
    diff = commands.add_parser("diff", help="compare two checkpoints tensor by tensor (exit 1 if they differ)")
    diff.add_argument("a")
    diff.add_argument("b")
    diff.set_defaults(run=_diff)
    return parser


def main(argv: "Sequence[str] | None" = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ValueError, TypeError, OSError) as e:
        print(f"msparam {args.command}: error: {e}", file=sys.stderr)
        return 1

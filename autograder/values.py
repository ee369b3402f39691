"""Probe values: decoding the child's plain data, and comparing it with the reference's.

Everything here reads data that student code chose (``child.py`` writes it; see its docstring
for the encoding). What must hold: no input makes these functions raise, loop or allocate
beyond the size of the input; anything malformed decodes to ``UNREADABLE``, which matches
nothing; and a comparison says *how* two values differ only in the fixed words of
``DIFFERENCES``, never by quoting either value.
"""
import math
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 32          # nesting the decoder follows (the child encodes at most 20 levels)
MAX_DIMENSIONS = 32     # numpy's own limit is 64
ARRAY_KINDS = {"b": bool, "i": np.int64, "u": np.uint64, "f": float}


class Unreadable:
    """A value the grader could not read; it equals no reference value."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE = Unreadable()


def decode(value, depth: int = 0):
    """Plain data from the child as Python and numpy values, or UNREADABLE (never raises)."""
    if depth > MAX_DEPTH:
        return UNREADABLE
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        # beyond float range no reference number can equal it, and numpy cannot hold it
        return value if abs(value) < 2**1023 else UNREADABLE
    if isinstance(value, list):
        return [decode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return _decode_tagged(value, depth)
    return UNREADABLE


def _decode_tagged(value: dict, depth: int):
    if value.keys() == {"__dict__"} and isinstance(value["__dict__"], dict):
        return {key: decode(item, depth + 1) for key, item in value["__dict__"].items()}
    if value.keys() == {"__ndarray__", "shape", "dtype"}:
        return _decode_array(value)
    if value.keys() == {"__complex__", "imag"}:
        return _decode_complex(decode(value["__complex__"], depth + 1), decode(value["imag"], depth + 1))
    return UNREADABLE   # an unencodable marker, or a dict that merely looks like a tag


def _decode_array(value: dict):
    shape, kind, data = value["shape"], value["dtype"], value["__ndarray__"]
    if kind not in ARRAY_KINDS or not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS \
            or not all(type(n) is int and 0 <= n < 2**31 for n in shape):
        return UNREADABLE
    if math.prod(shape) != _leaves(data, len(shape)):
        return UNREADABLE
    try:
        array = np.array(data, dtype=ARRAY_KINDS[kind])
    except (TypeError, ValueError, OverflowError):
        return UNREADABLE
    return array.reshape(shape) if array.size == math.prod(shape) else UNREADABLE


def _leaves(data, dimensions: int) -> int:
    """How many numbers a nested list of ``dimensions`` levels holds (-1 if it is not one)."""
    if dimensions == 0:
        return 1 if type(data) in (bool, int, float) else -1
    if not isinstance(data, list):
        return -1
    total = 0
    for item in data:
        count = _leaves(item, dimensions - 1)
        if count < 0:
            return -1
        total += count
    return total


def _decode_complex(real, imag):
    if isinstance(real, (int, float)) and isinstance(imag, (int, float)) \
            and not isinstance(real, bool) and not isinstance(imag, bool):
        return complex(real, imag)
    if isinstance(real, np.ndarray) and isinstance(imag, np.ndarray) and real.shape == imag.shape \
            and real.dtype.kind == imag.dtype.kind == "f":
        return real + 1j * imag
    return UNREADABLE


# How a student's value can differ from the reference's, in the words messages use.
MISSING, UNREAD, TYPE, SHAPE, VALUE = "missing", "unreadable", "type", "shape", "value"
DIFFERENCES = {
    MISSING: "{n} {were} not recorded",
    UNREAD: "{n} gave a result the grader cannot read (an object that is not a number, string, "
            "list, dict or numpy array)",
    TYPE: "{n} gave a result of another type",
    SHAPE: "{n} gave a result of another shape or length",
    VALUE: "{n} gave other values",
}
KIND_WORDS = {"none": "None", "bool": "True/False", "string": "a string", "real": "real numbers",
              "complex": "complex numbers", "dict": "a dict", "list": "a list",
              "scalar": "a single number", "array": "an array"}


@dataclass(frozen=True)
class Difference:
    """How one probe differs: ``how`` is a key of DIFFERENCES; ``expected``/``actual`` are
    keys of KIND_WORDS when the types differ or one is a single number, the other an array."""
    how: str
    expected: str = ""
    actual: str = ""


def _kind(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, Unreadable):
        return "unreadable"
    if isinstance(value, (complex, np.complexfloating)):
        return "complex"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "real"
    if isinstance(value, np.ndarray):
        return {"c": "complex", "b": "bool"}.get(value.dtype.kind, "real")
    return _list_kind(value)


def _list_kind(items: list) -> str:
    kinds = {_kind(item) for item in items}
    if kinds <= {"real", "bool"} and kinds != {"bool"} or not kinds:
        return "real"
    return kinds.pop() if len(kinds) == 1 and kinds <= {"complex", "bool"} else "list"


def compare(expected, actual, rtol: float, atol: float) -> Difference | None:
    """None when ``actual`` matches ``expected`` (the reference's value), else how it differs.

    Numbers match within the tolerances (nan matches nan, inf matches inf); a list of numbers
    matches an array of the same shape; strings, None and booleans must be equal; dicts need
    the same keys. Never raises, whatever ``actual`` holds.
    """
    try:
        return _compare(expected, actual, rtol, atol)
    except (TypeError, ValueError, OverflowError, MemoryError, RecursionError):
        return Difference(UNREAD)   # the reference's values are readable: the fault is actual's


def _compare(expected, actual, rtol, atol) -> Difference | None:
    want, got = _kind(expected), _kind(actual)
    if "unreadable" in (want, got):
        return Difference(UNREAD)
    if want != got:
        return Difference(TYPE, want, got)
    if want == "dict":
        if expected.keys() != actual.keys():
            return Difference(SHAPE)
        return next((d for k in expected if (d := _compare(expected[k], actual[k], rtol, atol))), None)
    if want in ("none", "string"):
        return None if expected == actual else Difference(VALUE)
    if want == "list":
        return _compare_items(expected, actual, rtol, atol)
    try:
        wanted = np.asarray(expected)
    except ValueError:  # a ragged list of numbers: compare item by item
        return _compare_items(expected, actual, rtol, atol)
    given = np.asarray(actual)
    if wanted.shape != given.shape:
        if (wanted.ndim == 0) != (given.ndim == 0):
            return Difference(SHAPE, *(("scalar", "array") if wanted.ndim == 0 else ("array", "scalar")))
        return Difference(SHAPE)
    if want == "bool":
        return None if np.array_equal(wanted, given) else Difference(VALUE)
    close = np.isclose(given, wanted, rtol=rtol, atol=atol, equal_nan=True)
    return None if bool(np.all(close)) else Difference(VALUE)


def _compare_items(expected: list, actual, rtol, atol) -> Difference | None:
    if not isinstance(actual, list) or len(actual) != len(expected):
        return Difference(SHAPE)
    return next((d for e, a in zip(expected, actual) if (d := _compare(e, a, rtol, atol))), None)


def summarise(differences: list[Difference], total: int) -> str:
    """One line on how many hidden checks differ and in what way, in trusted words only."""
    parts = []
    for how, template in DIFFERENCES.items():
        n = sum(d.how == how for d in differences)
        if not n:
            continue
        text = template.format(n=n, were="was" if n == 1 else "were")
        kinds = sorted({(d.actual, d.expected) for d in differences if d.how == how and d.actual})
        if kinds:
            text += " (" + "; ".join(f"{KIND_WORDS[a]} where the reference gives {KIND_WORDS[e]}"
                                     for a, e in kinds) + ")"
        parts.append(text)
    return f"{len(differences)} of {total} hidden checks differ from the reference solution: " + ", ".join(parts)

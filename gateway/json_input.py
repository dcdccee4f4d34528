"""JSON request bodies, parsed the one safe way for every endpoint (REST API and HTTP edges).

``json.loads`` alone turns hostile bodies into 500s or into work without bound: nesting deeper
than Python's stack is a ``RecursionError``, ``1e400`` becomes ``inf``, a 5,000-digit integer
raises while converting, a body of 13 million empty objects fills a gigabyte, and ``\\ud800`` or
``\\u0000`` escapes make strings that neither UTF-8 nor PostgreSQL can store. ``parse`` refuses
all of these with ``BadJson`` (answered 400 naming the field) before any view sees the data:

1. the body is UTF-8 (strict; no BOM, no other encoding guessed);
2. a linear pre-scan of its structure (strings cut out by one possessive regular expression)
   bounds the number of values (``MAX_VALUES``) and the nesting (``MAX_DEPTH``), so the parser
   never recurses deeply nor allocates more than a few MB of objects;
3. the standard parser runs with hooks that refuse duplicate keys, NaN/Infinity, non-finite
   floats and integers outside 64 bits (``5.0`` is the integer 5, as JSON Schema counts it);
4. with ``strict_text`` (the REST API, the chat edge) every string and key is checked for NUL
   and lone surrogates; the first one found is named by its top-level field and by its path
   (``attachments`` and ``attachments[0].filename``), as the views name fields either way.

Webhook edges whose raw body is queued for a worker (Telegram, Postmark, the contact form, which
cleans text itself) parse without ``strict_text``: the worker normalizes such characters, and a
provider that gets 4xx for a customer's odd character would drop the customer's message.
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate

MAX_DEPTH = 32          # nesting levels of arrays and objects in one body
MAX_VALUES = 100_000    # arrays, objects and comma-separated values in one body
MAX_INT = 2**63 - 1     # integers must fit the 64-bit columns and ids they end in
MAX_NUMBER_CHARS = 100  # characters of one number literal
MAX_EXACT_INT = 2**53   # integral floats up to this become ints (exact in a double)
# One JSON string, or an unterminated one up to the end: possessive, so the scan is linear even
# for ``"\"\"\"...`` (a backtracking pattern would restart at every quote: quadratic).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
MAX_STRINGS = 2 * MAX_VALUES + 2  # keys and values: more strings than this means more values
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # NUL (PostgreSQL) and lone surrogates (UTF-8)


class BadJson(Exception):
    """The body is not acceptable JSON; ``field`` names where (``body`` for the whole);
    ``fields`` is the error's field map (``field`` and, for a nested value, its path too)."""

    def __init__(self, message: str, field: str = "body", code: str = "invalid_json",
                 path: str = ""):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code
        self.fields = {field: message, **({path: message} if path else {})}


def parse(body: bytes, strict_text: bool = False):
    """The decoded JSON value of ``body``; raises ``BadJson`` (see the module docstring)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(f"the body is not UTF-8 text (invalid byte at offset {exc.start})") \
            from None
    check_shape(text)
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_int,
                           parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BadJson(f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, "
                      f"column {exc.colno})") from None
    except RecursionError:  # unreachable after check_shape; kept so it can never be a 500
        raise BadJson(f"the body is nested more than {MAX_DEPTH} levels deep") from None
    if strict_text:
        check_text(value)
    return value


def check_shape(text: str) -> None:
    """Bound the values and the nesting of ``text`` without parsing it (linear time)."""
    skeleton, strings = _STRING.subn("", text, count=MAX_STRINGS)
    if strings == MAX_STRINGS and '"' in skeleton:
        raise BadJson(f"the body holds more than {MAX_VALUES} values")
    opened = skeleton.count("[") + skeleton.count("{")
    if opened + skeleton.count(",") > MAX_VALUES:
        raise BadJson(f"the body holds more than {MAX_VALUES} values")
    if skeleton.count("]") + skeleton.count("}") > opened:
        raise BadJson("the body is not valid JSON: unbalanced brackets")
    brackets = _NOT_BRACKET.sub("", skeleton)  # at most 2 * MAX_VALUES of them
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > MAX_DEPTH:
        raise BadJson(f"the body is nested more than {MAX_DEPTH} levels deep")


def check_text(value) -> None:
    """Raise ``BadJson`` for the first string or key holding NUL or a lone surrogate, naming
    the body's top-level key and the full path."""
    stack = [("", "", value)]  # (path, top-level key, value)
    while stack:
        path, top, item = stack.pop()
        if isinstance(item, str) and unstorable(item):
            _unstorable_at(path, top, "")
        elif isinstance(item, dict):
            for key, child in item.items():
                if unstorable(key):
                    _unstorable_at(path, top, "a key ")
                stack.append((f"{path}.{key}" if path else key, top or key, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", top, child) for i, child in enumerate(item))


def _unstorable_at(path: str, top: str, what: str) -> None:
    where = f"{_printable(path)}: " if path != top else ""
    raise BadJson(f"{where}{what}must not contain NUL or unpaired surrogate characters",
                  _printable(top), "invalid_parameters", _printable(path) if where else "")


def unstorable(text: str) -> bool:
    """True when ``text`` holds NUL or a lone surrogate (``isascii`` is O(1): most text is
    ASCII and needs no scan for surrogates)."""
    return "\x00" in text or (not text.isascii() and _UNSTORABLE.search(text) is not None)


def _object(pairs: list) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise BadJson("this key appears twice in one object", _printable(_duplicate(pairs)))
    return result


def _duplicate(pairs: list) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _int(literal: str) -> int:
    number = int(literal) if len(literal) <= MAX_NUMBER_CHARS else MAX_INT + 1
    if abs(number) > MAX_INT:
        raise BadJson(f"integers must lie between -{MAX_INT} and {MAX_INT}")
    return number


def _float(literal: str) -> float | int:
    number = float(literal) if len(literal) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(number):
        raise BadJson("numbers must be finite and at most about 1.8e308")
    if number.is_integer() and abs(number) <= MAX_EXACT_INT:
        return int(number)  # 5.0 is the integer 5, as JSON Schema counts it
    return number


def _constant(name: str):
    raise BadJson(f"{name} is not a JSON number")


def _printable(key: str) -> str:
    """A key as a field name in an error: bounded, storable."""
    return _UNSTORABLE.sub("\ufffd", key)[:100] or "body"

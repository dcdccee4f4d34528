"""Workspace regular expressions (a rule's ``match.subject`` and ``match.text``) compiled with
RE2, the linear-time engine: no pattern a workspace writes can stall a worker (no catastrophic
backtracking, ReDoS). The dialect is Python's without backreferences, lookaround, atomic or
possessive repetition and ``\\Z``; each is refused when the configuration loads, with what to
write instead. Case is ignored with Unicode folding; ``\\w \\d \\s`` and ``$`` are rewritten to
their Python meaning (RE2's are ASCII-only, its ``$`` ignores a final newline); RE2's ``\\b``
knows only ASCII, so a pattern with non-ASCII letters may not use it.
"""
from __future__ import annotations

import re

import re2

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.case_sensitive = False  # Unicode case folding: "ŽÁDOST" matches "žádost"
_RE2_OPTIONS.log_errors = False  # a refused pattern is a configuration error, not a log line
_ENGINE = "RE2, the linear-time engine of rules (no backtracking, so no pattern stalls a worker)"
_UNSUPPORTED = (  # (how RE2's complaint starts, what to tell the workspace)
    (("invalid perl operator: (?=", "invalid perl operator: (?!", "invalid perl operator: (?<=",
      "invalid perl operator: (?<!"), f"lookahead and lookbehind are not supported by {_ENGINE}; "
     "match the neighbouring text itself, e.g. 'invoice(?:[^s]|$)' for 'invoice(?!s)'"),
    ((*(f"invalid escape sequence: \\{n}" for n in range(1, 10)), "invalid perl operator: (?P",
      "invalid escape sequence: \\k", "invalid escape sequence: \\g"),
     f"backreferences are not supported by {_ENGINE}; spell the repeated text out, e.g. '(ab)ab' "
     "rather than '(ab)\\1'"),
    (("invalid perl operator: (?>", "bad repetition operator: ++", "bad repetition operator: *+",
      "bad repetition operator: ?+"), f"atomic groups and possessive repetition are not needed "
     f"in {_ENGINE}; write a plain 'a+'"),
    (("invalid escape sequence: \\Z",), "RE2 writes the end of the text as \\z, not \\Z"),
    (("pattern too large",), "the pattern exceeds RE2's 8 MiB program limit (Unicode classes "
     "such as \\w are large); repeat less, e.g. '\\w+' rather than '\\w{1000}'"),
)
# Python's str meaning of \w, \d, \s (RE2's are ASCII-only), as RE2 class contents
_UNICODE_CLASSES = {"w": r"\pL\pN_", "d": r"\p{Nd}", "s": r"\s\v\x{1c}-\x{1f}\x{85}\pZ"}
_MULTILINE = re.compile(r"\(\?[a-zA-Z]*m")  # (?m) or (?im:...): there RE2's $ is Python's
# One piece of a workspace pattern: a \Q...\E literal, an escape, a [...] class, a character.
# Python's re is safe here: our own pattern, possessive, run only on patterns RE2 accepted.
_PIECE = re.compile(r"\\Q.*?(?:\\E|\Z)|\\.|\[\^?\]?(?:\[:\^?[a-z]+:\]|\\.|[^\]\\])*+\]|.", re.S)


def user_regex(pattern: str) -> re2._Regexp:
    """A workspace's ``subject`` / ``text`` pattern compiled with RE2, any case, ``\\w \\d \\s``
    as in Python; a ``ValueError`` says what is wrong and what to write instead."""
    _re2(pattern)  # first as written, so that an error quotes the workspace's own text
    _refuse_ascii_boundary(pattern)
    end = "$" if _MULTILINE.search(pattern) else r"(?:\n?$)"  # Python's $: before a final \n too
    return _re2(_PIECE.sub(lambda found: _unicode_piece(found.group(0), end), pattern))


def _re2(pattern: str) -> re2._Regexp:
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        said = exc.args[0] if exc.args else ""
        said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
        advice = next((f"{advice} ({said})" for starts, advice in _UNSUPPORTED
                       if said.startswith(starts)), said)
        raise ValueError(f"invalid regular expression: {advice}") from None


def _refuse_ascii_boundary(pattern: str) -> None:
    """RE2's ``\\b`` and ``\\B`` see only ASCII word characters, so they fail beside 'ž'."""
    letter = next((c for c in pattern if not c.isascii() and c.isalnum()), None)
    if letter is not None and not {"\\b", "\\B"}.isdisjoint(_PIECE.findall(pattern)):
        raise ValueError(f"invalid regular expression: \\b and \\B only know ASCII letters in "
                         f"{_ENGINE}, so they never hold beside {letter!r}; write (?:^|\\W) "
                         f"before and (?:\\W|$) after the word instead")


def _unicode_piece(piece: str, end: str) -> str:
    if len(piece) > 1 and piece[0] == "[":
        return _unicode_class(piece)
    if len(piece) == 2 and piece[0] == "\\" and piece[1].lower() in _UNICODE_CLASSES:
        inside = _UNICODE_CLASSES[piece[1].lower()]
        return f"[{inside}]" if piece[1].islower() else f"[^{inside}]"
    return end if piece == "$" else piece


def _unicode_class(piece: str) -> str:
    """``[...]`` with ``\\w \\d \\s`` inside made Unicode; ``\\W \\D \\S`` leave it to become
    alternatives beside it (``[\\s\\S]``: any character), which a ``[^...]`` cannot have."""
    opposites: list[str] = []

    def inside(found: re.Match[str]) -> str:
        letter, dash = found.group(1), "\\-" if found.group(2) else ""  # [\s-x]: no range
        if letter.lower() not in _UNICODE_CLASSES:
            return found.group(0)
        if letter.islower():
            return _UNICODE_CLASSES[letter] + dash
        opposites.append(f"[^{_UNICODE_CLASSES[letter.lower()]}]")
        return dash
    body = re.sub(r"\\(.)(-?)", inside, piece[1:-1], flags=re.S)
    if not opposites:
        return f"[{body}]"
    if body.startswith("^"):
        raise ValueError("invalid regular expression: \\W, \\D and \\S inside [^...] would be "
                         "ASCII-only in RE2; write \\pL for any letter, or (?:...|...) instead")
    return f"(?:{'|'.join(([f'[{body}]'] if body else []) + opposites)})"

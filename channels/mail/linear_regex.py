"""Linear-time regular expressions for the classification code: RE2, never Python's ``re``.

Every pattern that the classification checks run over a message (headers, body, report text)
is customer-controlled input to a regex engine. Python's ``re`` backtracks: ``\\s*:?\\s*`` over
40,000 spaces took 15-40 s, longer than a job's timeout. RE2 matches in time linear in the text
whatever the pattern, so these patterns are written in RE2's dialect (no lookaround, no
backreferences; ``\\s \\w \\d \\b`` are ASCII, which the patterns allow for) and compiled here.

Searching ASCII text (nearly every header and most bodies) goes straight to RE2's matcher
(``FastRegexp``): the binding's general path maps UTF-8 byte offsets back to characters through
a generator and several helper calls per search, which cost more than the match itself for
the short values the checks look at (16 searches per mail). For ASCII text byte offsets are
character offsets, so the fast path hands back the binding's own match object with the very
spans the general path would compute. Other text is searched once the same way, and only a
match (rare: most searches find nothing) takes the general path for its offsets; a search with
``pos``/``endpos``, or of bytes, always does.

Why not ``routing.user_regex``: that wrapper turns a *workspace's* pattern into RE2 with
Python's Unicode classes and explains refusals to an administrator; these are our own patterns,
written for RE2 directly, and the channels layer stays independent of routing.
"""
from __future__ import annotations

import re2

Regex = re2._Regexp
_UNANCHORED, _ANCHOR_START = re2._Anchor.UNANCHORED, re2._Anchor.ANCHOR_START
_NO_MATCH = (-1, -1)

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False       # a bad pattern is a bug the import raises, not a log line
_OPTIONS.max_mem = 32 << 20       # bytes for RE2's DFA cache: big alternations stay on the DFA


def linear(pattern: str, *, ignore_case: bool = True, multiline: bool = False) -> Regex:
    """``pattern`` compiled with RE2; case folding is Unicode-aware, ``multiline`` makes ``^``
    and ``$`` match at every line (Python's ``re.M``). Raises ``re2.error`` on a bad pattern."""
    flags = ("i" if ignore_case else "") + ("m" if multiline else "")
    return FastRegexp(f"(?{flags}){pattern}" if flags else pattern, _OPTIONS)


class FastRegexp(re2._Regexp):
    """An RE2 pattern whose ``search`` and ``match`` of a whole ASCII ``str`` skip the
    binding's offset mapping (see the module docstring); everything else is the binding's."""

    __slots__ = ()

    def search(self, text, pos=None, endpos=None):
        if pos is None and endpos is None and type(text) is str:
            return self._whole(_UNANCHORED, text, super().search)
        return super().search(text, pos, endpos)

    def match(self, text, pos=None, endpos=None):
        if pos is None and endpos is None and type(text) is str:
            return self._whole(_ANCHOR_START, text, super().match)
        return super().match(text, pos, endpos)

    def _whole(self, anchor, text: str, general):
        """The match of ``anchor`` over all of ``text``: for ASCII text built from RE2's spans
        as they are; for other text only "no match" is answered here (the binding's first
        step is this very call), a match takes the general path to map its offsets."""
        if text.isascii():
            spans = self._regexp.Match(anchor, text.encode("ascii"), 0, len(text))
            return None if spans[0] == _NO_MATCH else re2._Match(self, text, 0, len(text), spans)
        encoded = text.encode("utf-8")  # what the binding encodes (and raises) too
        if self._regexp.Match(anchor, encoded, 0, len(encoded))[0] == _NO_MATCH:
            return None
        return general(text)


def first_found(pattern: Regex, text: str) -> str:
    """What the first match of ``pattern`` captured: its first group, or the whole match when
    the pattern has no group; '' when nothing matches (or ``text`` is empty)."""
    match = pattern.search(text or "")
    if match is None:
        return ""
    return (match.group(1) or "") if pattern.groups else match.group(0)


def matched_text(pattern: Regex, text: str) -> str:
    """The text of the first match of ``pattern``, stripped ('' when none)."""
    match = pattern.search(text or "")
    return match.group(0).strip() if match else ""

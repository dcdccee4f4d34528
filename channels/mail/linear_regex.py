"""Regular expressions over customer text, compiled with RE2: matching time linear in the text.

Python's ``re`` backtracks, so a pattern such as ``[^@]+@x`` costs quadratic time on a line
without the ``@`` (a header of 16 KB: seconds). RE2 runs every pattern as an automaton. Its
dialect lacks lookaround and backreferences, and its ``\\s \\w \\d \\b`` know ASCII only:
patterns here are written for that (the project's other RE2 user, ``routing.user_regex``,
translates workspace patterns; ours are our own and need no translation). Patterns that need
lookaround stay on ``re`` and are written so that no character is tried more than a bounded
number of times (possessive repetition, bounded line lengths); ``tests/channels`` runs them on
adversarial input.
"""
from __future__ import annotations

import re2


def linear_regex(pattern: str, *, ignore_case: bool = False) -> re2._Regexp:
    """``pattern`` compiled with RE2 (``re``'s API: search, match, finditer, findall, sub)."""
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False  # a bad pattern raises re2.error; it is ours, tests catch it
    return re2.compile(pattern, options)

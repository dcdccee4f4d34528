"""Language detection of customer messages, for routing by ``lang:<code>`` skills.

Built on py3langid (a naive Bayes classifier over byte n-grams that ships its own model).
``detect`` answers an ISO 639-1 code, or ``""`` when it is unsure: too few letters are left once
quoted lines, URLs, e-mail addresses and digits are removed, or the best language's normalized
probability is below ``MIN_CONFIDENCE``. ``candidates`` restricts the answer to the languages a
workspace actually serves, which also settles close pairs (Czech/Slovak, Norwegian/Danish).

The model takes about a second to load; it is loaded on first use and shared by every thread.
Forking RQ workers should call ``warm_up()`` before they fork, so each job does not reload it.
The identifiers are never changed after they are built, so sharing them across threads is safe.
"""
from __future__ import annotations

import copy
import re
import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SCAN_CHARS = 10_000  # characters of the input that cleaning looks at (bounds the regex work)
CLASSIFY_CHARS = 2_000  # characters of the cleaned text given to the classifier
MIN_LETTERS = 12  # fewer letters than this after cleaning: too short to tell
MIN_CONFIDENCE = 0.8  # normalized probability the best language needs, 0-1
MAX_IDENTIFIERS = 64  # distinct candidate sets kept (each holds a slice of the model)

_QUOTED = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")

_lock = threading.Lock()
_identifiers: dict[frozenset[str], LanguageIdentifier] = {}


def detect(text: str, candidates: tuple[str, ...] = ()) -> str:
    """The language of ``text`` as an ISO 639-1 code, or ``""`` when unsure.

    ``candidates`` (ISO codes the model knows, see ``known_languages``) limits the answer to
    those languages; an unknown code raises ``ValueError`` naming it.
    """
    identifier = _identifier(frozenset(candidates))
    cleaned = clean(text)
    if sum(char.isalpha() for char in cleaned) < MIN_LETTERS:
        return ""
    code, confidence = identifier.classify(cleaned)
    if confidence < MIN_CONFIDENCE or len(code) != 2:  # 3-letter labels have no 639-1 code
        return ""
    return code


def clean(text: str) -> str:
    """The part of ``text`` that says something about its language: no quoted lines, URLs,
    e-mail addresses or digits, whitespace collapsed, at most ``CLASSIFY_CHARS`` long."""
    text = text[:SCAN_CHARS]
    for pattern in (_QUOTED, _URL, _EMAIL, _DIGITS):
        text = pattern.sub(" ", text)
    return _SPACES.sub(" ", text).strip()[:CLASSIFY_CHARS]


def known_languages() -> frozenset[str]:
    """The ISO 639-1 codes ``detect`` can answer (valid ``candidates``)."""
    return frozenset(code for code in _identifier(frozenset()).labels if len(code) == 2)


def warm_up(*candidate_sets: tuple[str, ...]) -> None:
    """Load the model (and the identifiers of ``candidate_sets``) now rather than on first use."""
    _identifier(frozenset())
    for candidates in candidate_sets:
        _identifier(frozenset(candidates))


def _identifier(candidates: frozenset[str]) -> LanguageIdentifier:
    found = _identifiers.get(candidates)
    if found is None:
        with _lock:
            found = _identifiers.get(candidates) or _add(candidates)
    return found


def _add(candidates: frozenset[str]) -> LanguageIdentifier:
    """Build and cache the identifier of ``candidates`` (empty: the full model); holds _lock."""
    if candidates:
        full = _identifiers.get(frozenset()) or _add(frozenset())
        unknown = sorted(candidates - {code for code in full.labels if len(code) == 2})
        if unknown:
            raise ValueError(f"unknown language code(s) in candidates: {', '.join(unknown)}")
        identifier = copy.copy(full)  # shares the model arrays; set_languages slices new ones
        identifier.set_languages(sorted(candidates))
    else:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if len(_identifiers) >= MAX_IDENTIFIERS:
        oldest = next(key for key in _identifiers if key)  # the full model always stays
        del _identifiers[oldest]
    _identifiers[candidates] = identifier
    return identifier

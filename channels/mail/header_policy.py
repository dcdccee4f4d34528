"""The email policy the adapter parses with: ``policy.default``, cached and bounded.

``CachingPolicy`` remembers parsed header values and never hands a pathological value to the
structured header parsers (see its docstring).
"""
from __future__ import annotations

import functools
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.policy import EmailPolicy

HEADER_CACHE_SIZE = 4096  # parsed header values remembered across messages (a few MB at most)
STRUCTURED_PARSE_CHARS = 1000  # longer header values are read as plain text (see CachingPolicy)
PLAIN_TEXT_HEADERS = ("content-", "mime-version")  # always plain text: up to 500 parts each


class CachingPolicy(EmailPolicy):
    """``policy.default`` that remembers parsed header values.

    Every ``message[name]`` re-parses the raw value through the header registry, and the
    adapter and classifier ask for the same headers many times: that was a quarter of a
    worker's time. Parsed headers are immutable ``str`` subclasses, so sharing them is safe.

    Bounded work: the structured parsers are quadratic on junk (16 KB of ";" in Content-Type:
    0.9 s) and recurse once per nested comment, so values over ``STRUCTURED_PARSE_CHARS`` and
    the MIME headers of every part (``PLAIN_TEXT_HEADERS``) are read as unstructured text.
    ``Message``'s string-based API (get_content_type, get_param, get_filename, get_boundary,
    get_content_charset, get_content) reads them all the same; only the structured header
    attributes (``.params``, ``.content_disposition``, hence ``is_attachment``) are absent.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _parsed_header(self, name, value)


@functools.lru_cache(maxsize=HEADER_CACHE_SIZE)
def _parsed_header(policy_: EmailPolicy, name: str, value: str):
    if len(value) <= STRUCTURED_PARSE_CHARS and not name.lower().startswith(PLAIN_TEXT_HEADERS):
        try:
            return EmailPolicy.header_fetch_parse(policy_, name, value)
        except Exception:  # RecursionError on comments nested 1000 deep; stdlib bugs on junk
            pass
    return _UNSTRUCTURED(name, "".join(value.splitlines()))


# Reads any value as plain text: what a header the structured parsers choke on becomes.
_UNSTRUCTURED = HeaderRegistry(default_class=UnstructuredHeader, use_default_map=False)
PARSE_POLICY = CachingPolicy()

"""The raw header values of a message by lower-cased name, gathered once per message.

The adapter and the classifier ask a parsed message for about twenty headers, most of them
absent; each ask used to walk every field of the message and lower-case its name. ``raw_values``
walks the fields once and remembers the index on the message. The index is rebuilt whenever the
message's field list is another list or has another length, so a message that gains or loses a
field (``msg[name] = ...``, ``del msg[name]``) is read afresh; our parsed messages never change
their fields afterwards (``replace_header`` on one would not be seen).
"""
from __future__ import annotations

_INDEX_ATTR = "_ticketgate_header_index"


def raw_values(message, name: str) -> list:
    """Every raw value (as ``raw_items`` gives it) of header ``name``, in order; [] if none.

    Callers must not change the list they get."""
    return _index(message).get(name.lower(), [])


def _index(message) -> dict[str, list]:
    fields = message.__dict__.get("_headers")
    cached = message.__dict__.get(_INDEX_ATTR)
    if cached is not None and cached[0] is fields and cached[1] == len(fields):
        return cached[2]
    index: dict[str, list] = {}
    for key, value in message.raw_items():
        index.setdefault(key.lower(), []).append(value)
    if isinstance(fields, list):
        message.__dict__[_INDEX_ATTR] = (fields, len(fields), index)
    return index

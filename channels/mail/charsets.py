"""Bytes to text for mail, whatever charset the sender claimed: never raises, always returns text.

Mail is full of charset labels Python lacks or misreads (``ks_c_5601-1987``, ``x-user-defined``,
ISO-2022-JP with Microsoft extensions) and of labels that lie (``us-ascii`` on 8-bit data,
``iso-8859-1`` on UTF-8). Order of trust: the declared charset when it decodes cleanly, UTF-8,
a statistical guess (charset_normalizer), and finally UTF-8 with replacement characters.
"""
from __future__ import annotations

import binascii
import codecs
import re
from email.message import Message

from charset_normalizer import from_bytes

from channels.mail.header_index import raw_values
from channels.mail.mime_tree import body_bytes

ISO2022JP_MS = "x-iso2022jp-ms"  # our transcoder: ISO-2022-JP plus Microsoft's CP50220 extensions

# Label -> codecs to try in order. Supersets first: senders label the subset but use the superset
# (GB2312 mail contains GBK characters, "iso-8859-1" mail contains Windows-1252 quotes, ...).
CHARSET_ALIASES = {
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "gb_2312-80", "chinese",
                     "csgb2312", "x-euc-cn"), ("gb18030",)),
    **dict.fromkeys(("ks_c_5601-1987", "ks_c_5601", "ksc5601", "euc-kr", "korean",
                     "ks_c_5601-1989", "x-windows-949", "windows-949"), ("cp949",)),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j",
                     "csshiftjis", "x-ms-cp932"), ("cp932",)),
    **dict.fromkeys(("iso-2022-jp", "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-2"),
                    ("iso2022_jp_2", ISO2022JP_MS)),
    **dict.fromkeys(("iso-2022-jp-ms", "cp50220", "cp50221", "cp50222", "x-cp50220",
                     "iso-2022-jp-3", "iso-2022-jp-2004"), (ISO2022JP_MS, "iso2022_jp_2004")),
    **dict.fromkeys(("euc-jp", "x-euc-jp", "eucjp", "cp51932"), ("euc_jp", "euc_jis_2004")),
    **dict.fromkeys(("big5", "x-big5", "big5-hkscs", "cn-big5", "cp950"), ("cp950", "big5hkscs")),
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "windows-1252",
                     "cp1252", "x-cp1252"), ("cp1252", "latin-1")),
    **dict.fromkeys(("tis-620", "windows-874", "iso-8859-11"), ("cp874",)),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "logical", "visual"), ("iso8859_8",)),
    **dict.fromkeys(("utf8", "utf-8", "unicode-2-0-utf-8", "x-unicode20utf8", "unicode-1-1-utf-8"),
                    ("utf-8-sig",)),
    **dict.fromkeys(("unicode-1-1-utf-7", "utf-7", "x-unicode20utf7", "csunicode11utf7"),
                    ("utf-7",)),
    **dict.fromkeys(("unicode", "ucs-2", "iso-10646-ucs-2", "csunicode"), ("utf-16",)),
    "x-mac-roman": ("mac_roman",), "x-mac-cyrillic": ("mac_cyrillic",),
    "x-mac-greek": ("mac_greek",), "x-mac-turkish": ("mac_turkish",),
}
# Labels that say nothing about 8-bit bytes: guess instead of trusting them.
MEANINGLESS_LABELS = frozenset({
    "us-ascii", "ascii", "ansi_x3.4-1968", "iso-ir-6", "us", "x-user-defined", "unknown-8bit",
    "x-unknown", "unknown", "default", "charset", "8bit", "7bit", "binary", "none", ""})
# Python "text encodings" that are not charsets: a sender naming them must not steer us.
NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined",
                          "palmos"})
# Codecs whose bytes may all be ASCII without the text being ASCII: never take the shortcut.
ASCII_LOOKALIKE_CODECS = ("utf-7", "iso2022", "hz", "utf-16", "utf-32", ISO2022JP_MS)
# Switches to a double-byte set: the bytes are ISO-2022 whatever the label says.
ISO2022_ESCAPE = b"\x1b$"
ISO2022_MODES = {b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b(I": "kana",
                 b"\x1b$@": "jis", b"\x1b$B": "jis", b"\x1b$(Q": "jis", b"\x1b$(O": "jis",
                 b"\x1b$(D": "jis"}  # JIS X 0212 (D) has no CP932 equivalent: best effort
# Single-byte Western labels are often put on UTF-8 text by broken mailers.
LATIN_CODECS = ("cp1252", "latin-1")
# What the guesser may answer, most common in mail first: short texts fit several charsets
# equally well, and then the more common one is the better bet.
DETECT_CODECS = ("utf_8", "cp1252", "gb18030", "cp932", "cp1251", "cp949", "big5", "euc_jp",
                 "koi8_r", "cp1250", "iso8859_2", "cp1253", "cp1254", "cp1255", "cp1256",
                 "cp1257", "cp874", "iso8859_15", "utf_16")
UUENCODINGS = ("x-uuencode", "uuencode", "uue", "x-uue")  # left to the stdlib's decoder
# Bytes of one text part decoded: more than the adapter keeps of text (1 M characters) or reads
# of HTML (4 M), in any charset; a hostile 32 MB part is not decoded and scrubbed whole.
MAX_DECODED_BYTES = 12 * 1024 * 1024
DETECT_SAMPLE_BYTES = 64 * 1024  # enough for a confident guess; guessing is slow on big bodies
HTML_META_SCAN_BYTES = 2048  # browsers look for <meta charset> in the first 1024 bytes; be generous
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_JUNK = bytes(sorted(set(range(256)) - set(_B64_ALPHABET)))  # deleted with bytes.translate
_B64_CHUNKS = re.compile(rb"[A-Za-z0-9+/]+")
MAX_B64_CHUNKS = 1000  # padded chunks decoded one by one; more "=" than that is junk
_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")  # NUL and lone surrogates: no DB or JSON takes them


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode mail bytes to text, trusting ``declared`` only as far as the bytes agree."""
    if not data:
        return ""
    declared_codecs = charset_codecs(declared)
    if _is_plain_ascii(data, declared_codecs):
        return scrub(data.decode("ascii"))
    for codec in _candidates(data, declared_codecs):
        text = _try_decode(data, codec)
        if text is not None:
            return scrub(text)
    return scrub(_decode_lenient(data, _guess(data[:DETECT_SAMPLE_BYTES]) or "utf-8"))


def decode_part(part: Message) -> str:
    """The text of a leaf MIME part, decoded by its declared charset (or its HTML <meta>);
    beyond ``MAX_DECODED_BYTES`` only up to a line break (the adapter keeps less anyway)."""
    data = payload_bytes(part)
    if len(data) > MAX_DECODED_BYTES:
        cut = data.rfind(b"\n", 0, MAX_DECODED_BYTES)
        data = data[:cut if cut > 0 else MAX_DECODED_BYTES]
    return decode_bytes(data, _declared_charset(part, data))


def payload_bytes(part: Message) -> bytes:
    """The transfer-decoded payload of a leaf part; bad base64/QP decode as far as they can."""
    raw = raw_payload(part)
    encoding = _transfer_encoding(part)
    if encoding == "base64":
        return lenient_b64decode(raw)  # the stdlib gives up on some damage we can repair
    if encoding == "quoted-printable":
        return binascii.a2b_qp(raw)  # what the stdlib does, without its copies of the payload
    if encoding not in UUENCODINGS:
        return raw  # 7bit, 8bit, binary or junk: the bytes as they are
    try:
        data = part.get_payload(decode=True)
    except Exception:  # the stdlib trips over some broken Content-Transfer-Encoding headers
        data = None
    return data if isinstance(data, bytes) else raw


def raw_payload(part: Message) -> bytes:
    """The payload of a leaf part as it arrived, before transfer decoding.

    Not ``get_payload()``: on 8-bit data that decodes with the declared charset, which raises
    on hostile labels (``charset="x\\0"``: ValueError) and, for UTF-7, makes lone surrogates
    that no codec turns back into bytes. Parts from ``mime_tree`` know their source bytes;
    otherwise the parser kept them in ``_payload`` (ASCII plus surrogate escapes), which is
    what the stdlib's own generator writes out.
    """
    source = body_bytes(part)
    if source is not None:  # parsed by mime_tree: the bytes themselves, no conversion
        return source
    raw = getattr(part, "_payload", None)
    if not isinstance(raw, str):
        return b""
    try:
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # not from the bytes parser: a built message with odd text
        return raw.encode("utf-8", "replace")


def lenient_b64decode(data: bytes) -> bytes:
    """Decode base64 whatever the damage: foreign characters skipped, padding missing or in the
    middle (concatenated chunks), one stray character at the end."""
    out, data = bytearray(), data.translate(None, _B64_JUNK)
    if data.count(b"=") > 2 * MAX_B64_CHUNKS:  # "=" everywhere: no chunking to respect
        data = data.replace(b"=", b"")
    for chunk in _B64_CHUNKS.findall(data):
        chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk  # one sextet alone holds no byte
        out += binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4))
    return bytes(out)


def _transfer_encoding(part: Message) -> str:
    values = raw_values(part, "content-transfer-encoding")
    return str(values[0]).split(";")[0].strip().lower() if values else ""


def _declared_charset(part: Message, data: bytes) -> str | None:
    try:
        charset = part.get_content_charset()
        is_html = part.get_content_type() == "text/html"
    except Exception:  # an RFC 2231 charset parameter in an unknown charset, a broken header
        charset, is_html = None, False
    if charset is None and is_html:
        match = _META_CHARSET.search(data[:HTML_META_SCAN_BYTES])
        charset = match.group(1).decode("ascii") if match else None
    return charset


def charset_codecs(declared: str | None) -> tuple[str, ...]:
    """The Python codecs to try for a declared label, best first; empty when it means nothing."""
    # "utf-8; format=flowed" pasted into the parameter, stray quotes and spaces
    label = (declared or "").split(";")[0].strip().strip("\"'").strip().lower()
    if label in CHARSET_ALIASES:
        return CHARSET_ALIASES[label]
    if label in MEANINGLESS_LABELS:
        return ()
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return ()
    if not info._is_text_encoding or info.name in NOT_CHARSETS:  # e.g. "base64", "rot13"
        return ()
    return (info.name,)


def scrub(text: str) -> str:
    """Drop characters no database or JSON encoder accepts (NUL, lone surrogates)."""
    if "\x00" not in text:  # the common case, checked at C speed: no regex pass over megabytes
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    return _BAD_CHARS.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def _is_plain_ascii(data: bytes, declared_codecs: tuple[str, ...]) -> bool:
    lookalike = any(c.startswith(ASCII_LOOKALIKE_CODECS) for c in declared_codecs)
    return data.isascii() and b"\x1b" not in data and not lookalike


def _candidates(data: bytes, declared_codecs: tuple[str, ...]) -> tuple[str, ...]:
    if not declared_codecs and ISO2022_ESCAPE in data:  # old Japanese mail, often unlabelled
        return CHARSET_ALIASES["iso-2022-jp"]
    if not declared_codecs or declared_codecs[0] in LATIN_CODECS:
        return ("utf-8",) + declared_codecs  # valid UTF-8 is never accidental latin text
    return declared_codecs


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        if codec == ISO2022JP_MS:
            return iso2022jp_to_cp932(data).decode("cp932")
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _decode_lenient(data: bytes, codec: str) -> str:
    if codec == ISO2022JP_MS:
        return iso2022jp_to_cp932(data).decode("cp932", errors="replace")
    try:
        return data.decode(codec, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _guess(sample: bytes) -> str | None:
    if ISO2022_ESCAPE in sample:
        return ISO2022JP_MS
    matches = list(from_bytes(sample, cp_isolation=list(DETECT_CODECS)))
    if not matches:
        return None
    top = min((m.chaos, -m.coherence) for m in matches)
    tied = {name for m in matches if (m.chaos, -m.coherence) == top
            for name in (m.encoding, *m.could_be_from_charset)}
    return next(name for name in DETECT_CODECS if name in tied)


def iso2022jp_to_cp932(data: bytes) -> bytes:
    """Re-encode ISO-2022-JP as Shift_JIS (CP932) so Microsoft's extra rows (①, ㈱) decode too.

    Python's ISO-2022-JP codecs reject NEC/IBM extension characters that Outlook and Japanese
    phones send (CP50220); CP932 has them at the equivalent code points.
    """
    out, mode, i = bytearray(), "ascii", 0
    while i < len(data):
        escape = data[i:i + 4] if data[i:i + 3] == b"\x1b$(" else data[i:i + 3]
        if escape in ISO2022_MODES:
            mode, i = ISO2022_MODES[escape], i + len(escape)
        elif data[i] in (0x0E, 0x0F):  # SO/SI: half-width katakana shift (CP50222)
            mode, i = ("kana" if data[i] == 0x0E else "ascii"), i + 1
        elif mode == "jis" and _is_jis_pair(data[i:i + 2]):
            out += _jis_to_sjis(data[i], data[i + 1])
            i += 2
        else:
            byte = data[i]
            out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
            i += 1
    return bytes(out)


def _is_jis_pair(pair: bytes) -> bool:
    return len(pair) == 2 and all(0x21 <= byte <= 0x7E for byte in pair)


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    s1 = ((j1 - 0x21) >> 1) + 0x81
    s1 += 0x40 if s1 > 0x9F else 0
    if j1 & 1:
        s2 = j2 + (0x1F if j2 < 0x60 else 0x20)
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))

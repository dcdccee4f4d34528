"""What an uploaded file really is: its type from its first bytes, never from the client's word.

A browser names a file's type after its extension and a script can send any type it likes, so
the contact form decides from the bytes. ``real_type`` looks for the magic numbers of common
formats (images, PDF, archives, office files, executables, HTML); bytes with no known signature
are ``text/plain`` when they decode as text, else ``application/octet-stream``. Zip and OLE
containers are what office documents are made of: there the client's more precise type is kept
when it names such a document. ``type_allowed`` matches a type against patterns like ``image/*``.
"""
from __future__ import annotations

# (offset, signature, type); the first match wins, so longer signatures come first.
SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"{\\rtf", "application/rtf"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (0, b"\xca\xfe\xba\xbe", "application/java-vm"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
)
# RIFF containers: the format is named at offset 8.
RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
# ISO media (MP4, HEIC, ...): "ftyp" at offset 4, then the brand.
FTYP_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif",
               b"avif": "image/avif", b"qt  ": "video/quicktime"}
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")
# Container types whose content the client may name more precisely (office documents).
CONTAINERS = {
    "application/zip": ("application/vnd.openxmlformats-officedocument.",
                        "application/vnd.oasis.opendocument.", "application/epub+zip"),
    "application/x-ole-storage": ("application/msword", "application/vnd.ms-excel",
                                  "application/vnd.ms-powerpoint", "application/vnd.ms-outlook"),
}
# Types for which text content keeps the client's type (anything else textual is text/plain).
TEXT_TYPES = ("text/plain", "text/csv", "text/markdown", "text/calendar", "text/vcard",
              "application/json")
SNIFF_BYTES = 512


def sniff(data: bytes) -> str | None:
    """The type named by the magic number at the start of ``data``, or None."""
    for offset, signature, content_type in SIGNATURES:
        if data[offset:offset + len(signature)] == signature:
            return content_type
    if data[:4] == b"RIFF" and data[8:12] in RIFF:
        return RIFF[data[8:12]]
    if data[:2] == b"BM" and data[6:10] == b"\0\0\0\0":  # BMP: reserved bytes are zero
        return "image/bmp"
    if data[4:8] == b"ftyp":
        return FTYP_BRANDS.get(data[8:12], "video/mp4")
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(HTML_STARTS):
        return "text/html"
    return None


def looks_like_text(data: bytes) -> bool:
    """UTF-8 (or plain ASCII) without NUL or other binary control characters."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def real_type(data: bytes, claimed: str) -> str:
    """The type to store and check: the sniffed one, the client's only where bytes agree."""
    claimed = (claimed or "").split(";")[0].strip().lower()
    sniffed = sniff(data)
    if sniffed in CONTAINERS and claimed.startswith(CONTAINERS[sniffed]):
        return claimed
    if sniffed:
        return sniffed
    if looks_like_text(data):
        return claimed if claimed in TEXT_TYPES else "text/plain"
    return "application/octet-stream"


def type_allowed(content_type: str, patterns: tuple[str, ...]) -> bool:
    """``image/png`` matches ``image/png``, ``image/*`` and ``*/*`` (case-insensitive)."""
    major, _, minor = content_type.lower().partition("/")
    for pattern in patterns:
        p_major, _, p_minor = pattern.strip().lower().partition("/")
        if p_major in ("*", major) and p_minor in ("*", minor):
            return True
    return False

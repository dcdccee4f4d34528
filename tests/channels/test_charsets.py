"""Charset decoding: declared labels trusted only as far as the bytes agree; never raises."""
from __future__ import annotations

import os
from email import policy
from email.parser import BytesParser

import pytest

from channels.mail.charsets import (charset_codecs, decode_bytes, decode_part,
                                    lenient_b64decode, payload_bytes, scrub)


def _jis(text: str) -> bytes:
    """ISO-2022-JP bytes for ``text`` including Microsoft rows, as Outlook (CP50220) sends."""
    out, mode = bytearray(), "ascii"
    for ch in text:
        sjis = ch.encode("cp932")
        if len(sjis) == 1:
            out += b"\x1b(B" if mode != "ascii" else b""
            mode = "ascii"
            out += sjis
            continue
        out += b"\x1b$B" if mode != "jis" else b""
        mode = "jis"
        s1, s2 = sjis
        j1 = (s1 - (0x70 if s1 < 0xA0 else 0xB0)) * 2
        if s2 >= 0x9F:
            j2 = s2 - 0x7E
        else:
            j1, j2 = j1 - 1, s2 - (0x20 if s2 > 0x7F else 0x1F)
        out += bytes((j1, j2))
    return bytes(out + (b"\x1b(B" if mode != "ascii" else b""))


def test_declared_utf8_decodes():
    assert decode_bytes("Grüße".encode("utf-8"), "utf-8") == "Grüße"


def test_empty_bytes_decode_to_empty_text():
    assert decode_bytes(b"", "utf-8") == ""


def test_gb2312_label_decodes_gbk_only_characters():
    assert decode_bytes("王喆".encode("gbk"), "GB2312") == "王喆"


def test_ks_c_5601_label_decodes_cp949_text():
    assert decode_bytes("똠방각하".encode("cp949"), "ks_c_5601-1987") == "똠방각하"


def test_iso_2022_jp_with_microsoft_extensions_decodes():
    assert decode_bytes(_jis("①の件 ㈱山田"), "iso-2022-jp") == "①の件 ㈱山田"


def test_cp50220_label_decodes():
    assert decode_bytes(_jis("テスト①"), "CP50220") == "テスト①"


def test_iso_2022_jp_half_width_katakana_decodes():
    data = "ｶﾀｶﾅ".encode("iso2022_jp_ext")
    assert decode_bytes(data, "iso-2022-jp") == "ｶﾀｶﾅ"


def test_unlabelled_iso_2022_jp_is_recognised():
    assert decode_bytes("こんにちは".encode("iso2022_jp"), None) == "こんにちは"


def test_latin1_label_reads_windows_1252_quotes():
    assert decode_bytes("“café” – 5 €".encode("cp1252"), "iso-8859-1") == "“café” – 5 €"


def test_latin1_label_on_utf8_bytes_reads_utf8():
    assert decode_bytes("Grüße".encode("utf-8"), "iso-8859-1") == "Grüße"


def test_windows_1252_undefined_byte_does_not_raise():
    assert decode_bytes(b"a\x81b", "windows-1252") == "a\x81b"


def test_us_ascii_label_with_utf8_bytes_is_detected():
    assert decode_bytes("naïve".encode("utf-8"), "us-ascii") == "naïve"


def test_unknown_charset_is_guessed():
    data = "Viele Grüße aus Köln, schöne Grüße.".encode("cp1252")
    assert decode_bytes(data, "x-foo") == "Viele Grüße aus Köln, schöne Grüße."


def test_x_user_defined_label_is_guessed():
    text = "Привет, как дела?"
    assert decode_bytes(text.encode("cp1251"), "x-user-defined") == text


def test_utf7_alias_decodes():
    assert decode_bytes(b"Hi Mom -+Jjo--!", "unicode-1-1-utf-7") == "Hi Mom -☺-!"


def test_quoted_label_with_trailing_parameters_is_understood():
    assert charset_codecs('"UTF-8"; format=flowed') == ("utf-8-sig",)


@pytest.mark.parametrize("label", ["unicode_escape", "base64", "undefined", "rot13", "idna"])
def test_codec_names_that_are_not_charsets_are_ignored(label):
    assert charset_codecs(label) == ()


def test_random_bytes_never_raise():
    for _ in range(50):
        assert isinstance(decode_bytes(os.urandom(64), "x-foo"), str)


def test_scrub_removes_nul_and_replaces_lone_surrogates():
    assert scrub("a\x00b\ud800c") == "ab\ufffdc"


def test_decoded_text_never_contains_nul():
    assert decode_bytes(b"a\x00b", "utf-8") == "ab"


def test_lenient_b64decode_drops_a_stray_last_character():
    assert lenient_b64decode(b"SGVsbG8gV29ybGQhA") == b"Hello World!"


def test_lenient_b64decode_skips_foreign_characters():
    assert lenient_b64decode(b"SGVs!!bG8=") == b"Hello"


def test_lenient_b64decode_reads_concatenated_padded_chunks():
    assert lenient_b64decode(b"aGk=aGk=") == b"hihi"


def _part(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def test_decode_part_uses_the_html_meta_charset_when_the_header_has_none():
    part = _part(b'Content-Type: text/html\n\n<meta charset="koi8-r"><p>' +
                 "Привет".encode("koi8_r") + b"</p>")
    assert "Привет" in decode_part(part)


def test_decode_part_decodes_quoted_printable_in_declared_charset():
    part = _part(b"Content-Type: text/plain; charset=iso-8859-1\n"
                 b"Content-Transfer-Encoding: quoted-printable\n\nHall=F6chen")
    assert decode_part(part) == "Hallöchen"


def test_payload_bytes_keeps_bytes_of_unknown_transfer_encoding():
    part = _part(b"Content-Type: application/octet-stream\n"
                 b"Content-Transfer-Encoding: x-weird\n\nraw")
    assert payload_bytes(part) == b"raw"

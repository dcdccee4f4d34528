"""The email adapter's bodies, charsets and attachments, and its MIME reader's decoding and caps."""
from __future__ import annotations

from channels.mail import mime
from tests.channels.mailfactory import FIXTURES, email_event, fixture_event, parse_email


# --- bodies, charsets, attachments ----------------------------------------------------------


def test_html_only_mail_gets_text_rendered_from_html():
    text = fixture_event("html-only.eml").text
    assert text.startswith("Still broken & smoking.") and "> Have you tried" in text


def test_html_is_sanitized():
    html = fixture_event("html-only.eml").html
    assert "<script" not in html and "onclick" not in html and 'rel="noopener noreferrer"' in html


def test_iso_2022_jp_mail_decodes_with_microsoft_characters():
    event = fixture_event("iso-2022-jp.eml")
    assert (event.sender.name, event.subject) == ("山田", "お問い合わせ")
    assert event.text == "お世話になっております。①の件です。㈱山田"


def test_gb2312_mail_decodes_gbk_characters():
    event = fixture_event("gb2312.eml")
    assert event.sender.name == "王先生" and event.text.endswith("镕")


def test_windows_1252_mail_decodes_quotes_and_euro():
    event = fixture_event("windows-1252.eml")
    assert event.text == "The “café” costs 5 € – thanks." and event.subject == "“Café” order"


def test_raw_latin1_display_name_is_decoded():
    assert fixture_event("windows-1252.eml").sender.name == "Zoë"


def test_unknown_charset_is_guessed():
    event = fixture_event("unknown-charset.eml")
    assert event.subject == "Grüße" and event.text.startswith("Viele Grüße aus Köln")


def test_raw_8bit_utf8_headers_are_decoded():
    event = fixture_event("8bit-header.eml")
    assert (event.sender.name, event.subject) == ("Jürgen Müller", "Bestellung für Köln")


def test_attachments_are_referenced_by_sha256_and_returned_as_blobs():
    parsed = parse_email((FIXTURES / "rfc2231-filenames.eml").read_bytes())
    first = parsed.event.attachments[0]
    assert parsed.blobs[first.sha256] == b"%PDF-1.4\n" and first.size == 9


def test_rfc2231_and_rfc2047_filenames_are_decoded():
    names = [a.filename for a in fixture_event("rfc2231-filenames.eml").attachments]
    assert names == ["€ rates 2024.pdf", "你好.txt", "über foto.jpg"]


def test_inline_image_is_marked_inline_with_content_id():
    event = fixture_event("inline-image.eml")
    image = event.attachments[0]
    assert (image.inline, image.content_id, image.content_type) == (True, "shot1@example.com",
                                                                    "image/png")
    assert 'src="cid:shot1@example.com"' in event.html


def test_forwarded_message_is_kept_as_an_eml_attachment():
    parsed = parse_email((FIXTURES / "forwarded-rfc822.eml").read_bytes())
    attached = parsed.event.attachments[0]
    assert (attached.filename, attached.content_type) == ("Your order.eml", "message/rfc822")
    assert b"Your order has shipped." in parsed.blobs[attached.sha256]
    assert parsed.event.text == "Please look at the mail below."


def test_bad_base64_body_decodes_as_far_as_possible():
    assert fixture_event("bad-base64.eml").text == "Hello World!"


def test_unknown_transfer_encoding_keeps_the_raw_bytes():
    parsed = parse_email((FIXTURES / "bad-base64.eml").read_bytes())
    data = [parsed.blobs[a.sha256] for a in parsed.event.attachments if a.filename == "data.bin"]
    assert data == [b"raw bytes kept"]


def test_html_split_around_an_image_inside_alternative_is_joined():
    raw = (b'From: a@example.com\nContent-Type: multipart/alternative; boundary="a"\n\n'
           b"--a\nContent-Type: text/plain\n\nBefore. After.\n"
           b'--a\nContent-Type: multipart/mixed; boundary="m"\n\n'
           b"--m\nContent-Type: text/html\n\n<p>Before.</p>\n--m\nContent-Type: image/png\n"
           b"Content-Disposition: inline\n\nPNG\n--m\nContent-Type: text/html\n\n<p>After.</p>\n"
           b"--m--\n--a--\n")
    assert email_event(raw).html == "<p>Before.</p>\n\n<p>After.</p>"


def test_empty_text_part_gives_way_to_the_html_part():
    raw = (b'From: a@example.com\nContent-Type: multipart/alternative; boundary="a"\n\n'
           b"--a\nContent-Type: text/plain\n\n \n--a\nContent-Type: text/html\n\n<p>Real</p>\n"
           b"--a--\n")
    assert email_event(raw).text == "Real"


def test_missing_boundary_keeps_the_body_as_text():
    raw = b"From: a@example.com\nContent-Type: multipart/mixed\n\nJust text, no parts."
    assert email_event(raw).text == "Just text, no parts."


def test_apple_mail_text_split_around_an_image_is_joined():
    raw = (b'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"\n\n'
           b"--b\nContent-Type: text/plain\n\nBefore.\n--b\nContent-Type: image/png\n"
           b"Content-Disposition: inline\n\nPNG\n--b\nContent-Type: text/plain\n\nAfter.\n--b--\n")
    assert email_event(raw).text == "Before.\n\nAfter."


# --- MIME reading ---------------------------------------------------------------------------


def test_adjacent_encoded_words_split_mid_character_are_joined():
    message = mime.parse_bytes(b"Subject: =?utf-8?B?w6k=?= =?utf-8?Q?_caf=C3?= =?utf-8?Q?=A9?=\n\n")
    assert mime.header_text(message, "subject") == "é café"


def test_encoded_word_with_broken_base64_is_decoded():
    message = mime.parse_bytes(b"Subject: =?utf-8?B?SGVsbG8gV29ybGQhA?=\n\n")
    assert mime.header_text(message, "subject") == "Hello World!"


def test_text_around_encoded_words_is_kept():
    message = mime.parse_bytes(b"Subject: Re: =?utf-8?Q?caf=C3=A9?= order\n\n")
    assert mime.header_text(message, "subject") == "Re: café order"


def test_folded_headers_are_unfolded():
    message = mime.parse_bytes(b"Subject: a long\r\n subject\r\n\r\n")
    assert mime.header_text(message, "subject") == "a long subject"


def test_filenames_lose_their_path():
    assert mime.safe_filename("..\\..\\windows\\evil.exe") == "evil.exe"


def test_overlong_filenames_keep_their_extension():
    name = mime.safe_filename("x" * 400 + ".pdf")
    assert len(name) == mime.MAX_FILENAME_CHARS and name.endswith(".pdf")


def test_part_count_is_capped():
    count = mime.MAX_PARTS + 20
    parts = "".join(f"--b\nContent-Type: application/x-part\n\n{i}\n" for i in range(count))
    raw = f'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"\n\n{parts}--b--\n'
    body = mime.extract(mime.parse_bytes(raw.encode()))
    assert body.truncated and len(body.attachments) < mime.MAX_PARTS


def test_nesting_depth_is_capped():
    depth = mime.MAX_DEPTH + 5
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'
                      for i in range(depth))
    closing = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    raw = f"From: a@example.com\n{opening}Content-Type: text/plain\n\ndeep{closing}"
    body = mime.extract(mime.parse_bytes(raw.encode()))
    assert body.truncated and body.text == ""

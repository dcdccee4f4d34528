"""HTML bodies: sanitizing for display and rendering readable text."""
from __future__ import annotations

from channels.mail.html import sanitize, to_text


def test_sanitize_removes_scripts_and_styles_with_their_content():
    assert sanitize("<script>alert(1)</script><style>p{}</style><p>hi</p>") == "<p>hi</p>"


def test_sanitize_removes_event_handlers():
    assert "onclick" not in sanitize('<p onclick="evil()">hi</p>')


def test_sanitize_adds_noopener_noreferrer_to_links():
    assert 'rel="noopener noreferrer"' in sanitize('<a href="https://example.com">x</a>')


def test_sanitize_drops_javascript_and_data_urls():
    cleaned = sanitize('<a href="javascript:alert(1)">a</a><a href="data:text/html,x">b</a>')
    assert "javascript" not in cleaned and "data:" not in cleaned


def test_sanitize_keeps_cid_image_sources():
    assert 'src="cid:logo@example.com"' in sanitize('<img src="cid:logo@example.com">')


def test_sanitize_strips_comments():
    assert "<!--" not in sanitize("<p>a</p><!-- secret -->")


def test_sanitize_drops_forms():
    assert "<form" not in sanitize('<form action="https://evil"><input name="pw"></form>')


def test_to_text_separates_paragraphs_with_a_blank_line():
    assert to_text("<p>one</p><p>two</p>") == "one\n\ntwo"


def test_to_text_turns_br_into_newlines():
    assert to_text("a<br>b<br/><br>c") == "a\nb\n\nc"


def test_to_text_decodes_entities():
    assert to_text("Tom &amp; Jerry&nbsp;&lt;3 &#x263a;") == "Tom & Jerry <3 ☺"


def test_to_text_collapses_source_whitespace():
    assert to_text("<div>  many\n   spaces   here </div>") == "many spaces here"


def test_to_text_renders_bullet_lists():
    assert to_text("<ul><li>apple</li><li>pear</li></ul>") == "- apple\n- pear"


def test_to_text_numbers_ordered_lists():
    assert to_text("<ol><li>one</li><li>two</li></ol>") == "1. one\n2. two"


def test_to_text_quotes_blockquotes_for_reply_trimming():
    text = to_text("<div>Yes.</div><div>Bob wrote:</div><blockquote><p>Question?</p></blockquote>")
    assert text.splitlines()[-1] == "> Question?"


def test_to_text_quotes_nested_blockquotes_twice():
    text = to_text("<blockquote>a<blockquote>b</blockquote></blockquote>")
    assert "> > b" in text.splitlines()


def test_to_text_skips_script_style_and_title():
    html = "<head><title>T</title><style>p{}</style></head><body><script>x()</script>body</body>"
    assert to_text(html) == "body"


def test_to_text_renders_body_after_an_unclosed_head():
    assert to_text("<html><head><meta charset=utf-8><body>Hello") == "Hello"


def test_to_text_keeps_preformatted_whitespace():
    assert to_text("<pre>  a\n    b</pre>") == "  a\n    b"


def test_to_text_separates_table_cells_and_rows():
    assert to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == "a b\nc"


def test_to_text_uses_image_alt_text():
    assert to_text('Thanks <img alt="😀" src="cid:x">') == "Thanks 😀"


def test_to_text_survives_tag_soup():
    assert to_text("<p><b>unclosed <i>tags</p></ul></blockquote><<>>&bogus;").startswith("unclosed")

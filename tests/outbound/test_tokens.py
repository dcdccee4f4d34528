"""Signed ticket tokens: round trip, binding to workspace and key, tampering, encodings."""
import pytest

from channels import email, tokens
from config import signing

KEY = "k" * 32


def test_round_trip_and_shape():
    token = tokens.sign(KEY, "demo", 42)
    assert len(token) == tokens.TOKEN_CHARS and token == token.lower()
    assert tokens.verify(KEY, "demo", token) == 42
    assert tokens.verify(KEY, "demo", token.upper()) == 42  # case-folding mail systems


@pytest.mark.parametrize("number", [1, 2**31 - 1, 2**63])
def test_large_numbers(number):
    assert tokens.verify(KEY, "demo", tokens.sign(KEY, "demo", number)) == number


def test_bound_to_workspace_and_key():
    token = tokens.sign(KEY, "demo", 7)
    assert tokens.verify(KEY, "acme", token) is None
    assert tokens.verify("another-key", "demo", token) is None


def test_every_altered_character_fails():
    token = tokens.sign(KEY, "demo", 7)
    for i, char in enumerate(token):
        altered = token[:i] + ("a" if char != "a" else "b") + token[i + 1:]
        assert tokens.verify(KEY, "demo", altered) is None, i


@pytest.mark.parametrize("junk", ["", "x", "!" * 31, "a" * 30, "a" * 32, "0" * 31, "1" * 31])
def test_junk_is_refused(junk):
    assert tokens.verify(KEY, "demo", junk) is None


def test_empty_key_is_an_error():
    with pytest.raises(ValueError):
        tokens.sign("", "demo", 1)


def test_places_where_tokens_go():
    token = tokens.sign(KEY, "demo", 3)
    message_id = tokens.message_id(token, "demo.test")
    assert message_id.startswith(f"<tg.{token}.") and message_id.endswith("@demo.test>")
    assert tokens.token_of_message_id(message_id) == token
    assert tokens.token_of_message_id("<CAF123@mail.customer.test>") == ""
    assert tokens.reply_address("support@demo.test", token) == f"support+{token}@demo.test"
    assert len(f"support+{token}") <= 64  # RFC 5321 local part
    assert email.find_body_marker("text " + tokens.text_marker(token)) == token
    assert email.find_body_marker("<p>x</p>" + tokens.html_marker(token)) == token


def test_default_key_from_env_or_a_private_file(tmp_path):
    assert signing.default_key({"TICKETGATE_SIGNING_KEY": "abc"}) == "abc"
    env = {"TICKETGATE_VAR_DIR": str(tmp_path)}
    first = signing.default_key(env)
    assert len(first) >= 40 and signing.default_key(env) == first
    assert (tmp_path / signing.KEY_FILE).stat().st_mode & 0o077 == 0

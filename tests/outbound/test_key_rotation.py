"""Signing-key rotation: ``TICKETGATE_SIGNING_KEY="newest,older"`` signs with the newest key
and verifies with every listed one; a key taken off the list stops verifying."""
import base64

import pytest

from channels import tokens
from config import signing

OLD, NEW, NEWER = "old-key-" + "o" * 24, "new-key-" + "n" * 24, "newer-key-" + "w" * 22


def keys_of(value: str, tmp_path) -> tuple[str, ...]:
    return signing.signing_keys({"TICKETGATE_SIGNING_KEY": value,
                                 "TICKETGATE_VAR_DIR": str(tmp_path)})


def raw(token: str) -> bytes:
    return base64.b32decode(token.upper() + "=" * (-len(token) % 8))


def test_the_newest_key_signs_and_every_listed_key_verifies():
    before = tokens.sign(signing.default_key({"TICKETGATE_SIGNING_KEY": OLD}), "demo", 12)
    env = {"TICKETGATE_SIGNING_KEY": f"{NEW},{OLD}"}
    after = tokens.sign(signing.default_key(env), "demo", 13)
    assert signing.default_key(env) == NEW
    assert tokens.verify(signing.signing_keys(env), "demo", before) == 12  # mail sent before
    assert tokens.verify(signing.signing_keys(env), "demo", after) == 13
    assert tokens.verify(OLD, "demo", after) is None  # signed with the new key, not the old


def test_a_removed_key_no_longer_verifies(tmp_path):
    from_old = tokens.sign(OLD, "demo", 12)
    from_new = tokens.sign(NEW, "demo", 13)
    rotated_twice = keys_of(f"{NEWER},{NEW}", tmp_path)
    assert tokens.verify(rotated_twice, "demo", from_old) is None
    assert tokens.verify(rotated_twice, "demo", from_new) == 13


def test_a_token_of_an_old_key_stays_bound_to_its_workspace(tmp_path):
    token = tokens.sign(OLD, "demo", 12)
    assert tokens.verify(keys_of(f"{NEW},{OLD}", tmp_path), "acme", token) is None


def test_the_token_names_no_key_only_the_tag_differs():
    """No key id travels with the token: the same 9 payload bytes and a full 80-bit tag
    whatever the key, so rotation neither shortens the MAC nor lets a forger pick a key."""
    under_old, under_new = raw(tokens.sign(OLD, "demo", 7)), raw(tokens.sign(NEW, "demo", 7))
    assert len(under_old) == len(under_new) == tokens.PAYLOAD.size + tokens.MAC_BYTES
    assert under_old[:tokens.PAYLOAD.size] == under_new[:tokens.PAYLOAD.size]
    assert under_old[tokens.PAYLOAD.size:] != under_new[tokens.PAYLOAD.size:]


def test_a_tag_mixed_from_two_keys_verifies_under_neither(tmp_path):
    """Half the tag of one key and half of the other is no valid token for the pair."""
    under_old, under_new = raw(tokens.sign(OLD, "demo", 7)), raw(tokens.sign(NEW, "demo", 7))
    half = tokens.PAYLOAD.size + tokens.MAC_BYTES // 2
    mixed = base64.b32encode(under_old[:half] + under_new[half:]).decode().rstrip("=").lower()
    assert tokens.verify(keys_of(f"{NEW},{OLD}", tmp_path), "demo", mixed) is None


@pytest.mark.parametrize("value, expected", [
    (f"{NEW},{OLD}", (NEW, OLD)),
    (f" {NEW} , {OLD} ", (NEW, OLD)),
    (f"{NEW},,{OLD},", (NEW, OLD)),
    (f"{NEW},{OLD},{NEW}", (NEW, OLD)),
    (NEW, (NEW,)),
])
def test_the_list_is_read_newest_first_without_blanks_or_repeats(tmp_path, value, expected):
    assert keys_of(value, tmp_path) == expected


@pytest.mark.parametrize("value", ["", " ", ",", " , ,"])
def test_a_blank_list_falls_back_to_the_private_key_file(tmp_path, value):
    keys = keys_of(value, tmp_path)
    assert keys == ((tmp_path / signing.KEY_FILE).read_text().strip(),)
    assert len(keys[0]) >= 40


def test_verifying_with_no_key_is_an_error():
    with pytest.raises(ValueError, match="no signing key"):
        tokens.verify((), "demo", tokens.sign(OLD, "demo", 1))

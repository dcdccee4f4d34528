"""Issue 15, item 3: the demo key the launcher writes and announces is the one the server uses.
With TICKETGATE_API_KEY (or TICKETGATE_CHAT_SECRET) set, no other key is generated into var/,
and the banner says which key is in force, where it comes from, and never prints it."""
from __future__ import annotations

import os
import stat

from config.settings import load_settings
from gateway.ops.launch import banner, prepare_environment, provide_secrets

FROM_ENV = "key-from-the-environment-123"


def test_key_from_the_environment_is_in_force_and_no_file_is_written(tmp_path):
    env = {"TICKETGATE_API_KEY": FROM_ENV}
    sources = provide_secrets(env, tmp_path)
    assert env["TICKETGATE_API_KEY"] == FROM_ENV
    assert not (tmp_path / "demo-api-key").exists()
    assert sources["TICKETGATE_API_KEY"].from_environment
    assert (tmp_path / "demo-chat-secret").exists()  # unset: generated, as before
    assert env["TICKETGATE_CHAT_SECRET"] == (tmp_path / "demo-chat-secret").read_text().strip()


def test_chat_secret_from_the_environment_writes_no_file(tmp_path):
    env = {"TICKETGATE_CHAT_SECRET": "chat-secret-from-env"}
    provide_secrets(env, tmp_path)
    assert env["TICKETGATE_CHAT_SECRET"] == "chat-secret-from-env"
    assert os.listdir(tmp_path) == ["demo-api-key"]


def test_without_the_variable_the_key_is_generated_once_into_a_private_file(tmp_path):
    first, second = {}, {}
    provide_secrets(first, tmp_path)
    provide_secrets(second, tmp_path)
    key_file = tmp_path / "demo-api-key"
    assert first["TICKETGATE_API_KEY"] == second["TICKETGATE_API_KEY"] == \
        key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_an_empty_variable_counts_as_unset(tmp_path):
    env = {"TICKETGATE_API_KEY": ""}
    sources = provide_secrets(env, tmp_path)
    assert env["TICKETGATE_API_KEY"] and not sources["TICKETGATE_API_KEY"].from_environment


def make_banner(env: dict, tmp_path) -> str:
    env.update(TICKETGATE_VAR_DIR=str(tmp_path / "var"), REDIS_URL="redis://:pw-secret@h:1/0")
    redis_process, sources = prepare_environment(env)
    assert redis_process is None
    return banner(load_settings(env), sources)


def test_banner_names_the_environment_key_and_the_command_that_works(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo-api-key").write_text("stale-generated-key\n")  # an earlier run
    text = make_banner({"TICKETGATE_API_KEY": FROM_ENV}, tmp_path)
    assert "demo API key  $TICKETGATE_API_KEY (environment)" in text
    assert "demo-api-key is older and NOT accepted" in text
    assert 'curl -H "Authorization: Bearer $TICKETGATE_API_KEY"' in text
    assert FROM_ENV not in text and "stale-generated-key" not in text
    assert "pw-secret" not in text  # the Redis URL's password is masked


def test_banner_names_the_generated_key_file(tmp_path):
    env = {}
    text = make_banner(env, tmp_path)
    key_file = tmp_path / "var" / "demo-api-key"
    assert f"demo API key  {key_file} (generated on first run)" in text
    assert f'Bearer $(cat {key_file})"' in text
    assert env["TICKETGATE_API_KEY"] not in text
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700

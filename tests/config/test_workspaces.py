"""The workspace file: schema, clear errors, address ownership, hashed keys."""
import pytest

from config.settings import DEFAULT_CONFIG, load_settings
from config.workspaces import ConfigError, hash_key, load_config, parse_config

EXAMPLE = str(DEFAULT_CONFIG)


def test_example_file_defines_demo_owning_demo_test():
    config = load_config(EXAMPLE)
    assert config.workspace_for_address("billing@demo.test").slug == "demo"


def test_plus_addressed_recipient_belongs_to_workspace():
    config = parse_config({"workspaces": [{"slug": "a", "addresses": ["help@a.test"]}]})
    assert config.workspace_for_address("Help+tok@A.test").slug == "a"


def test_unknown_address_belongs_to_nobody():
    assert load_config(EXAMPLE).workspace_for_address("x@elsewhere.test") is None


def test_invalid_value_names_the_key():
    with pytest.raises(ConfigError, match=r"workspaces\.0\.reopen\.policy"):
        parse_config({"workspaces": [{"slug": "a", "reopen": {"policy": "sometimes"}}]})


def test_unknown_key_is_an_error_not_ignored():
    with pytest.raises(ConfigError, match=r"workspaces\.0\.domian"):
        parse_config({"workspaces": [{"slug": "a", "domian": ["a.test"]}]})


def test_duplicate_slugs_are_refused():
    with pytest.raises(ConfigError, match="duplicate workspace slug"):
        parse_config({"workspaces": [{"slug": "a"}, {"slug": "a"}]})


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "nope.yaml"))


def test_broken_yaml_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("workspaces: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(bad))


def test_api_keys_are_indexed_by_hash_only():
    config = load_config(EXAMPLE)
    index = config.api_key_index({"TICKETGATE_API_KEY": "s3cret"})
    assert index == {hash_key("s3cret"): "demo"}


def test_settings_default_to_embedded_sqlite_and_redis(tmp_path):
    settings = load_settings({"TICKETGATE_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'ticketgate.db'}"
    assert settings.redis_url == f"unix://{tmp_path / 'redis.sock'}"
    assert (settings.port, settings.smtp_port) == (8000, 2525)

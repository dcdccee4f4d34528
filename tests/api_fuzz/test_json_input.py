"""``gateway.json_input``: the one parser of JSON request bodies, and its limits."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings, strategies as st

from gateway.json_input import MAX_DEPTH, MAX_INT, MAX_VALUES, BadJson, parse


def refused(body: bytes, strict_text: bool = False) -> BadJson:
    with pytest.raises(BadJson) as caught:
        parse(body, strict_text)
    return caught.value


def test_ordinary_json_is_parsed():
    assert parse(b'{"a": [1, 2.5, "x", null, true], "b": {"c": -3}}') == {
        "a": [1, 2.5, "x", None, True], "b": {"c": -3}}


def test_nesting_up_to_the_limit_is_fine_and_one_more_is_refused():
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert "nested" in refused(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)).message


def test_brackets_inside_strings_are_not_nesting():
    assert parse(json.dumps({"text": "[[[{{{" * 1000}).encode())


def test_values_beyond_the_limit_are_refused():
    assert len(parse(b"[" + b"0," * (MAX_VALUES - 2) + b"0]")) == MAX_VALUES - 1
    assert "values" in refused(b"[" + b"0," * MAX_VALUES + b"0]").message


@pytest.mark.parametrize("literal", [b"1e400", b"-1e400", b"9" * 5000, str(MAX_INT + 1).encode(),
                                     b"NaN", b"Infinity", b"-Infinity", b"0." + b"1" * 200])
def test_numbers_that_do_not_fit_are_refused(literal):
    assert refused(b'{"n": ' + literal + b"}").field == "body"


def test_integral_floats_are_integers():
    assert parse(b"[5.0, -2e3, 0.5, 1e20]") == [5, -2000, 0.5, 1e20]


def test_duplicate_keys_name_the_key():
    error = refused(b'{"a": {"b": 1, "b": 2}}')
    assert (error.field, error.code) == ("b", "invalid_json")


@pytest.mark.parametrize("body", [b'"caf\xe9"', b'"\xed\xa0\x80"', b"\xef\xbb\xbf{}",
                                  b'\xff\xfe{\x00}\x00'])
def test_only_utf8_is_json(body):
    assert refused(body).code == "invalid_json"


def test_strict_text_names_the_top_level_field_and_the_path():
    error = refused(b'{"attachments": [{"filename": "a\\u0000b"}]}', strict_text=True)
    assert (error.field, error.code) == ("attachments", "invalid_parameters")
    assert error.message.startswith("attachments[0].filename: ")
    assert set(error.fields) == {"attachments", "attachments[0].filename"}
    assert refused(b'{"x\\ud800": 1}', strict_text=True).field == "body"


def test_without_strict_text_nul_and_surrogates_pass_through():
    assert parse(b'{"t": "a\\u0000\\udc00"}') == {"t": "a\x00\udc00"}


@pytest.mark.parametrize("body", [
    b'"\\"' * 2_000_000, b'"' * 4_000_000, b"\\" * 4_000_000, b"[" * 4_000_000,
    b"]" * 4_000_000, b"[" + b"{}," * 1_300_000 + b"{}]",
    b'{"a": "' + b"x" * 4_000_000 + b'"}', b"[" + b'"\\u0000",' * 500_000 + b"0]"])
def test_hostile_4_mb_bodies_are_judged_in_linear_time(body):
    started = time.process_time()
    try:
        parse(body, strict_text=True)
    except BadJson:
        pass
    assert time.process_time() - started < 1.0  # linear scans: about 0.02-0.1 s here


@settings(max_examples=200, derandomize=True, database=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_json_or_bad_json(body):
    try:
        parse(body, strict_text=True)
    except BadJson as exc:
        assert exc.message and exc.field

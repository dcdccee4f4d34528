"""`make run` uses the machine (issue 12, item 2): one email worker per core by default,
another number from EMAIL_WORKERS (and <QUEUE>_WORKERS for the other queues), in the banner."""
from __future__ import annotations

import pytest

from config.settings import load_settings
from gateway.ops.launch import (banner, cores, honcho_concurrency, prepare_environment,
                                worker_counts)


def test_one_email_worker_per_core_and_one_per_other_queue_by_default():
    counts = worker_counts({})
    assert counts == {"worker_email": cores(), "worker_form": 1, "worker_chat": 1,
                      "worker_telegram": 1, "worker_outbound": 1}
    assert honcho_concurrency(counts).startswith(f"worker_email={cores()},worker_form=1,")


def test_each_queue_scales_by_its_variable():
    counts = worker_counts({"EMAIL_WORKERS": "6", "CHAT_WORKERS": " 3 "})
    assert counts["worker_email"] == 6 and counts["worker_chat"] == 3
    assert "worker_email=6" in honcho_concurrency(counts).split(",")


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_number_that_is_no_process_count_is_refused(value):
    with pytest.raises(SystemExit, match="EMAIL_WORKERS"):
        worker_counts({"EMAIL_WORKERS": value})


def test_the_banner_says_how_many_workers_run(tmp_path):
    env = {"TICKETGATE_VAR_DIR": str(tmp_path / "var"), "REDIS_URL": "redis://h:1/0"}
    _, sources = prepare_environment(env)
    text = banner(load_settings(env), sources, worker_counts({"EMAIL_WORKERS": "5"}))
    assert "workers       email 5, form 1, chat 1, telegram 1, outbound 1 process(es)" in text
    assert "EMAIL_WORKERS" in text

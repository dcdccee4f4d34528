"""The fuzzer's budget: fixed and small inside the normal suite, raised on demand.

``make test`` runs every fuzz test with the defaults below, derandomized (the same inputs on
every run, so CI is never flaky). ``make fuzz`` raises the counts and takes a fresh seed; set
these by hand for anything in between:

- ``FUZZ_EXAMPLES``: hypothesis examples per property (default 150);
- ``FUZZ_MUTATIONS``: mutated corpus mails per kind of mutation (default 60);
- ``FUZZ_SEED``: seed of the corpus mutations and of hypothesis (default: fixed, derandomized);
- ``FUZZ_SAVE_DIR``: where a failing input is written, to become a fixture in
  ``tests/channels/fixtures/crashers`` (default: nowhere).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 150)
MUTATIONS = int(os.environ.get("FUZZ_MUTATIONS") or 60)
SEED = os.environ.get("FUZZ_SEED") or ""
SAVE_DIR = os.environ.get("FUZZ_SAVE_DIR") or ""
INPUT_CPU_SECONDS = 2.0  # per input, the ceiling for the worst mail

SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=not SEED,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


def seeded(test):
    """Hypothesis' seed from ``FUZZ_SEED`` when one is given (otherwise derandomized)."""
    from hypothesis import seed
    return seed(int(SEED))(test) if SEED else test

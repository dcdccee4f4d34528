"""Mutated real mail becomes an event or ``Unparseable`` within the CPU budget, never a crash.

Each kind of mutation (``mutations.MUTATIONS``) is applied to ``budget.MUTATIONS`` mails drawn
from the shared corpora by a generator seeded with the kind and ``FUZZ_SEED``: the same inputs
on every run unless the seed changes. A failure names the corpus mail and the seed.
"""
from __future__ import annotations

import random

import pytest

from tests.fuzz.budget import MUTATIONS, SEED
from tests.fuzz.corpus import corpus_mails
from tests.fuzz.mutations import MUTATIONS as KINDS
from tests.fuzz.mutations import mutate
from tests.fuzz.oracle import check_mail


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mutated_corpus_mail_becomes_an_event_or_unparseable(kind):
    mails = corpus_mails()
    if not mails:
        pytest.skip("../shared/corpora is not present")
    rng = random.Random(f"{kind}:{SEED}")
    for round_ in range(MUTATIONS):
        index = rng.randrange(len(mails))
        raw = mutate(mails[index], rng, kind)
        try:
            check_mail(raw, f"{kind}-{index}")
        except BaseException as exc:
            raise AssertionError(f"{kind}: corpus mail #{index}, round {round_}, "
                                 f"FUZZ_SEED={SEED!r}: {type(exc).__name__}: {exc}") from exc

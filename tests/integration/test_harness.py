"""The harness itself: a child that logs a lot is never blocked by output nobody reads yet."""
from __future__ import annotations

import sys

import pytest

from tests.integration.harness import LoggedProcess

pytestmark = pytest.mark.integration
MORE_THAN_A_PIPE_HOLDS = 1024 * 1024  # a Linux pipe holds 64 KiB


def test_a_child_logging_more_than_a_pipe_holds_runs_to_its_end():
    child = LoggedProcess([sys.executable, "-c",
                           f"import sys; sys.stdout.write('x' * {MORE_THAN_A_PIPE_HOLDS})"])
    assert child.wait(timeout=30) == 0
    output, _ = child.communicate(timeout=5)
    assert output == b"x" * MORE_THAN_A_PIPE_HOLDS

"""A real RQ worker process (``workers.run``) whose email adapter is the test fault injector.

    python -m tests.integration.fault_worker email --burst

Mail marked ``X-Test-Fault: kill`` kills this process (and its process group) from inside the
adapter, as the OOM killer would: no exception, no cleanup. See ``tests/workers/faults.py``.
"""
import sys

from tests.workers import faults
from workers.ingest import normalize
from workers import run

if __name__ == "__main__":
    faults.KILL_ALLOWED = True
    normalize.ADAPTERS["email"] = faults.ADAPTER
    run.main(sys.argv[1:])

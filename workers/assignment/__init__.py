"""The assignment family of workers: the routing and SLA sweep (python -m workers.assignment.sweep)."""

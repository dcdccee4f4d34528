"""The ingest family of workers: channel queue jobs -> normalize -> pipeline (dedupe, classify, identify, thread, lifecycle, rules, route) -> store, with per-message isolation."""

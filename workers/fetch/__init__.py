"""The guarded HTTP client of every server-side fetch of a URL someone outside supplied."""

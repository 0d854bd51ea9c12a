"""Use cases: one function per user action, each in its own unit of work (no Qt)."""

"""Eval harness: suites of questions with expected figures, scored deterministically (see the eval issue)."""

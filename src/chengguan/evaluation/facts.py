"""Evaluation facts: what each case and task did, and when, kept in step with the loop."""

from __future__ import annotations

from collections.abc import Iterable


def refresh_cases(case_ids: Iterable[int]) -> None:
    """Rebuild the evaluation facts of these cases (after a bulk import wrote them directly)."""

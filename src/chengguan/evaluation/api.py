"""Evaluation API: indicator tables, explanations, appeals, publications."""

from ninja import Router

router = Router(tags=["evaluation"])

"""Bulletins API: the four ones (四个一) as JSON, xlsx or PDF."""

from ninja import Router

router = Router(tags=["bulletins"])

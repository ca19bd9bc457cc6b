"""The leader dashboard (see urls.py)."""

urlpatterns: list = []

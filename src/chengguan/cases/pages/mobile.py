"""Pages of this room (see cases/urls.py)."""

urlpatterns: list = []

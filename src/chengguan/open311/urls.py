"""URLs of the open311 pages."""

urlpatterns: list = []

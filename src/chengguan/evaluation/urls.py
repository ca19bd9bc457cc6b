"""URLs of the evaluation pages."""

urlpatterns: list = []

"""URLs of the bulletin pages, included under `/bulletins/`."""

from django.urls import path

from chengguan.evaluation import bulletin_pages

urlpatterns = [
    path("", bulletin_pages.index, name="bulletins"),
    path("<str:kind>/", bulletin_pages.page, name="bulletin"),
    path("<str:kind>/download.<str:ext>", bulletin_pages.download, name="bulletin-download"),
]

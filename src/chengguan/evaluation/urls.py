"""URLs of the evaluation pages: one list; the bulletins append their own `path("bulletins/...")` lines."""

from django.urls import include, path

from chengguan.evaluation import manage_pages, pages

urlpatterns: list = [
    path("evaluation/", pages.ranking, name="evaluation"),
    path("evaluation/explain/", pages.explain, name="evaluation-explain"),
    path("evaluation/appeals/", manage_pages.appeals, name="evaluation-appeals"),
    path("evaluation/appeals/<int:appeal_id>/decision", manage_pages.decide, name="evaluation-appeal-decide"),
    path("evaluation/publications/", manage_pages.publications, name="evaluation-publications"),
    path("evaluation/publications/<int:pk>/", manage_pages.publication, name="evaluation-publication"),
    path("evaluation/config/", manage_pages.config, name="evaluation-config"),
    path("bulletins/", include("chengguan.evaluation.bulletin_urls")),
]

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "chengguan.catalog"
    verbose_name = "分类与标准"

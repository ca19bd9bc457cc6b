from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "chengguan.assets"
    verbose_name = "部件"

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "chengguan.imports"
    verbose_name = "数据导入"

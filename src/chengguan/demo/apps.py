from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "chengguan.demo"
    verbose_name = "演示城市"

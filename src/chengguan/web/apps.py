from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "chengguan.web"
    verbose_name = "页面"

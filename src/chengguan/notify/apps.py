from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "chengguan.notify"
    verbose_name = "通知"

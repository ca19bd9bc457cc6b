from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "chengguan.org"
    verbose_name = "组织与用户"

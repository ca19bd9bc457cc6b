from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "chengguan.cases"
    verbose_name = "案件"

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "chengguan.evaluation"
    verbose_name = "综合评价"

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "chengguan.evaluation"
    verbose_name = "综合评价"

    def ready(self) -> None:
        from chengguan.cases.signals import case_changed
        from chengguan.evaluation.facts import on_case_changed

        case_changed.connect(on_case_changed, dispatch_uid="evaluation-facts")

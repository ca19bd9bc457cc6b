from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "chengguan.notify"
    verbose_name = "通知"

    def ready(self) -> None:
        from chengguan.cases.signals import case_changed
        from chengguan.notify.receivers import on_case_changed

        case_changed.connect(on_case_changed, dispatch_uid="chengguan.notify.outbox")

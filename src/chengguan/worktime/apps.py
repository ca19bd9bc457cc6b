from django.apps import AppConfig


class WorktimeConfig(AppConfig):
    name = "chengguan.worktime"
    verbose_name = "工作日历"

    def ready(self) -> None:
        from chengguan.worktime import signals  # noqa: F401

"""`chengguan remind`: write the reminders (催办) for tasks that turned yellow or red."""

from django.core.management.base import BaseCommand

from chengguan.notify.reminders import remind


class Command(BaseCommand):
    help = "为黄灯、红灯任务写入催办 / Write reminders for tasks that turned yellow or red"

    def handle(self, *args, **options):
        self.stdout.write(f"reminders {remind()}")

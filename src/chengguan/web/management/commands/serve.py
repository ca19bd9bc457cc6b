"""`chengguan serve`: the production server (gunicorn) on one port, with the demo accounts shown."""

import os
import sys

from django.core.management.base import BaseCommand

from chengguan.org.models import User

DEMO_PASSWORD = "chengguan-demo"  # noqa: S105 - documented demo password, demo city only


class Command(BaseCommand):
    help = "Serve chengguan with gunicorn (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))

    def handle(self, *args, **options):
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(f"chengguan 数字城管 — {url}")
        self.stdout.write(f"  接口文档 API docs: {url}/api/v1/docs    管理后台 admin: {url}/admin/")
        demo = list(User.objects.filter(is_active=True).order_by("role", "username").values_list("username", "role"))
        if demo and User.objects.filter(username="operator").exists():
            self.stdout.write(f"  演示账号 demo accounts (密码 password: {DEMO_PASSWORD}):")
            for username, role in demo:
                self.stdout.write(f"    {username:<20} {role}")
        self.stdout.flush()
        argv = [
            sys.executable, "-m", "gunicorn", "chengguan.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}",
            "--workers", str(options["workers"]), "--threads", "4",
            "--access-logfile", "-", "--timeout", "120",
        ]
        os.execv(sys.executable, argv)  # noqa: S606 - replace this process with the server

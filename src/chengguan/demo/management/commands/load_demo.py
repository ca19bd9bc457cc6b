from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from chengguan.demo.services import DEMO_PASSWORD, STAFF, Account, load_demo
from chengguan.errors import DomainError
from chengguan.org.models import Role


class Command(BaseCommand):
    help = (
        "生成演示城市（杭州市富阳区：街道、社区、网格、部门、账号、部件，及模拟案件）"
        " · build the demo city (Fuyang, Hangzhou) and simulate its cases"
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="随机种子（同一种子结果相同）· random seed")
        parser.add_argument(
            "--if-empty", action="store_true", help="已有城市时什么也不做 · do nothing when a city exists"
        )
        parser.add_argument(
            "--cases-days", type=int, default=30, help="模拟最近多少天的案件，0 为不模拟 · days of cases (0: none)"
        )
        parser.add_argument("--now", help="模拟的“现在”（ISO 8601）· the simulated now (ISO 8601)")
        parser.add_argument("--data-dir", help="共享数据目录（默认 SHARED_DATA_DIR）· the shared data directory")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条 · no progress bars")

    def handle(self, *args, **options):
        now = None
        if options["now"]:
            now = parse_datetime(options["now"])
            if now is None or now.tzinfo is None:
                raise CommandError("--now 须为带时区的 ISO 8601 时间 · --now must be an ISO 8601 time with an offset")
        if options["cases_days"] < 0:
            raise CommandError("--cases-days 不能为负数 · --cases-days cannot be negative")
        try:
            report = load_demo(
                seed=options["seed"],
                cases_days=options["cases_days"],
                if_empty=options["if_empty"],
                now=now,
                data_dir=options["data_dir"],
                progress=not options["no_progress"],
            )
        except DomainError as exc:  # the city exists already, or its data is missing
            raise CommandError(f"{exc.zh} · {exc.en}") from exc
        if report is None:
            self.stdout.write("已有城市，未生成演示数据 · a city exists already; nothing to do")
            return
        c = report.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"演示城市已生成（种子 {report.seed}，{report.seconds:.1f} 秒）· demo city built:"
                f" {c['streets']} 个街道乡镇、{c['communities']} 个社区村、{c['grids']} 个单元网格"
                f"（核心区 {c['core_grids']}）、{c['duty_grids']} 个责任网格、{c['departments']} 个部门、"
                f"{c['responsibilities']} 条责任矩阵、{c['components']} 个部件、{c['accounts']} 个账号"
            )
        )
        if report.cases_note:
            self.stdout.write(report.cases_note)
        self.stdout.write(f"\n演示账号 demo accounts（密码 password: {DEMO_PASSWORD}）：")
        width = max(len(a.username) for a in report.accounts)
        for a in sorted(report.accounts, key=_account_order):
            role = Role(a.role).label
            self.stdout.write(f"  {a.username:<{width}}  {role}（{a.role}）  {a.display_name}  {a.note}")


def _account_order(account: Account) -> tuple:
    """Centre staff first, then the inspectors by number, then the departments."""
    staff = list(STAFF)
    if account.username in staff:
        return (0, staff.index(account.username), "")
    if account.role == Role.INSPECTOR:
        return (1, int(account.username.removeprefix("inspector") or 1), "")
    return (2, 0, account.username)

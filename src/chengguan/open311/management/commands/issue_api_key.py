from django.core.management.base import BaseCommand, CommandError

from chengguan.open311.models import ApiKey
from chengguan.open311.services import issue_key


class Command(BaseCommand):
    help = "签发 Open311 密钥（吊销请在后台操作）· issue an Open311 API key (revoke it in the admin)"

    def add_arguments(self, parser):
        parser.add_argument("name", help="使用方（系统或单位名称）· who uses the key")
        parser.add_argument("--key", help="指定密钥值（默认随机生成）· the key's value (random by default)")
        parser.add_argument("--contact", default="", help="联系方式 · contact")
        parser.add_argument("--rate", type=int, default=60, help="每分钟请求上限 · requests per minute")

    def handle(self, *args, **options):
        if options["rate"] < 1:
            raise CommandError("--rate 须为正整数 · --rate must be positive")
        if options["key"] and ApiKey.objects.filter(key=options["key"]).exists():
            raise CommandError("该密钥已存在 · this key exists already")
        api_key = issue_key(options["name"], key=options["key"], contact=options["contact"],
                            rate_per_minute=options["rate"])
        self.stdout.write(api_key.key)

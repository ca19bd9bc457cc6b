from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models


class Department(models.Model):
    """A department (专业部门) in a tree: owner, maintainer or regulator that fixes problems."""

    code = models.CharField("部门代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    name_en = models.CharField("英文名", max_length=120, blank=True)
    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="departments", verbose_name="城市")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级部门"
    )
    # The district (or street) government that takes cases with no owner (属地兜底).
    region = models.ForeignKey("geo.Region", on_delete=models.SET_NULL, null=True, blank=True, verbose_name="属地区域")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "专业部门"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    INSPECTOR = "inspector", "监督员"
    VOLUNTEER = "volunteer", "志愿者"
    OPERATOR = "operator", "受理员"
    SHIFTLEAD = "shiftlead", "值班长"
    DISPATCHER = "dispatcher", "派遣员"
    DEPARTMENT = "department", "专业部门"
    LEADER = "leader", "领导"
    EVALUATOR = "evaluator", "考评员"
    ADMIN = "admin", "系统管理员"


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # A superuser runs the system: give them the administrator's role, not the default.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    objects = UserManager()

    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.VOLUNTEER)
    city = models.ForeignKey(
        "geo.City", on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name="城市"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name="部门"
    )
    display_name = models.CharField("姓名", max_length=80, blank=True)
    phone = models.CharField("电话", max_length=32, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class LoginFailure(models.Model):
    """Failed logins, counted per username and per address to throttle guessing."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.username}@{self.address}"

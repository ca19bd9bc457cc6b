from django.conf import settings
from django.db import models
from django.db.models import Q

from chengguan.evaluation.indicators import KEYS

# Count columns n0… of the rollup: as many as the widest family has counts.
ROLLUP_WIDTH = max(len(keys) for keys in KEYS.values())


class Fact(models.Model):
    """One countable thing and its history (see indicators.py), kept in step with its case.

    `final_at` is set once the fact's outcome can no longer change (its case ended, its task was
    done or returned); from then on the rollup holds its outcome, bucketed by the day it became
    final. Facts not yet final are evaluated one by one from `history`.
    """

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)  # task | region | report | miss | verify | check | register | dispatch
    ref = models.IntegerField(default=0)  # task seq or clock id: one fact per (case, kind, ref)
    subject = models.CharField(max_length=40)  # department code, grid code or user id
    community = models.CharField(max_length=40, blank=True)  # region facts: the grid's community
    counted_at = models.DateTimeField()
    day = models.DateField()  # local day of counted_at
    final_at = models.DateTimeField(null=True, blank=True)
    final_day = models.DateField(null=True, blank=True)
    history = models.JSONField()
    outcome = models.JSONField(null=True, blank=True)  # the final outcome the rollup holds

    class Meta:
        verbose_name = verbose_name_plural = "评价事实"
        constraints = [models.UniqueConstraint(fields=["case", "kind", "ref"], name="fact_unique")]
        indexes = [
            models.Index(fields=["city", "kind", "day", "subject"], name="fact_period"),
            models.Index(fields=["city", "kind", "day"], name="fact_pending", condition=Q(final_at__isnull=True)),
            models.Index(fields=["city", "kind", "final_day", "day"], name="fact_final"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.day}"


class Rollup(models.Model):
    """Sums of final outcomes (and day-end snapshots of pending ones) per subject and day.

    `family` is departments / grids / communities / inspectors / operators; `day` is the
    counting day; for final rows `mark` is the day the facts became final, for snapshot rows
    (`snapshot` true) it is the day whose end the snapshot describes. n0… hold the counts in
    indicators.KEYS order.
    """

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=12)
    subject = models.CharField(max_length=40)
    day = models.DateField()
    snapshot = models.BooleanField(default=False)
    mark = models.DateField()
    n0 = models.IntegerField(default=0)
    n1 = models.IntegerField(default=0)
    n2 = models.IntegerField(default=0)
    n3 = models.IntegerField(default=0)
    n4 = models.IntegerField(default=0)
    n5 = models.IntegerField(default=0)
    n6 = models.IntegerField(default=0)
    n7 = models.IntegerField(default=0)
    n8 = models.IntegerField(default=0)
    n9 = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "评价汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["city", "family", "snapshot", "mark", "day", "subject"], name="rollup_unique"
            )
        ]
        indexes = [models.Index(fields=["city", "family", "day", "snapshot", "mark"], name="rollup_period")]

    def __str__(self) -> str:
        return f"{self.family} {self.subject} {self.day}"


class ClosedDay(models.Model):
    """A local day whose end-of-day snapshot of pending facts has been written."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["city", "day"], name="closed_day_unique")]

    def __str__(self) -> str:
        return str(self.day)


class EvaluationConfig(models.Model):
    """Weights, grade bands and light threshold; every change is a new version, never an edit."""

    version = models.AutoField("版本", primary_key=True)
    weights = models.JSONField("权重")
    grades = models.JSONField("等级分界")
    yellow_fraction = models.FloatField("黄灯比例", default=0.8)
    note = models.CharField("变更说明", max_length=300)
    created_at = models.DateTimeField("生效时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="操作人",
    )

    class Meta:
        verbose_name = verbose_name_plural = "评价配置"
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version} {self.note}"


class Appeal(models.Model):
    """申诉/核减: a department asks that a counted task be removed from its numbers."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已核减"
        REJECTED = "rejected", "已驳回"

    task = models.ForeignKey("cases.Task", on_delete=models.CASCADE, related_name="appeals")
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="appeals")
    reason = models.CharField("申诉理由", max_length=500)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("申诉时间")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "申诉核减"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task"], condition=Q(status="pending"), name="one_pending_appeal"),
            models.UniqueConstraint(fields=["task"], condition=Q(status="approved"), name="one_approved_appeal"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.get_status_display()}"


class Publication(models.Model):
    """A published (frozen) evaluation; a correction is a new version with its reason."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField("评价对象", max_length=12)
    level = models.CharField("区域层级", max_length=12, blank=True)
    period = models.CharField("周期", max_length=32)
    version = models.PositiveIntegerField("版本")
    as_of = models.DateTimeField("截至")
    config_version = models.IntegerField("配置版本")
    reason = models.CharField("更正原因", max_length=500, blank=True)
    data = models.JSONField("数据")
    checksum = models.CharField("校验和", max_length=64)
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "评价发布"
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "subject", "level", "period", "version"], name="publication_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.period} v{self.version}"

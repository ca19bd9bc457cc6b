from django.db import models


class Kind(models.TextChoices):
    EVENT = "event", "事件"
    COMPONENT = "component", "部件"


class MajorClass(models.Model):
    """大类: a first-level class of events or components (01 公用设施 …)."""

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    code = models.CharField("大类代码", max_length=2)
    name = models.CharField("名称", max_length=40)
    name_en = models.CharField("英文名", max_length=80, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "大类"
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="major_class_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"


class SmallClass(models.Model):
    """小类: what a case is about. `code` is kind-prefixed: E0102 (event), C0101 (component)."""

    code = models.CharField("小类代码", max_length=8, unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    major = models.ForeignKey(MajorClass, on_delete=models.PROTECT, related_name="small_classes", verbose_name="大类")
    name = models.CharField("名称", max_length=40)
    name_en = models.CharField("英文名", max_length=120, blank=True)
    pinyin_initials = models.CharField("拼音首字母", max_length=40, blank=True)
    filing_condition = models.TextField("立案条件", blank=True)
    filing_condition_en = models.TextField("立案条件(英文)", blank=True)
    closing_condition = models.TextField("结案条件", blank=True)
    closing_condition_en = models.TextField("结案条件(英文)", blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "小类"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Urgency(models.TextChoices):
    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"


class TimeLimit(models.Model):
    """Handling limit (处置时限) per small class, filing condition, urgency and area class.

    Blank `filing_condition` / `area_class` match any; the most specific row wins.
    """

    small_class = models.ForeignKey(
        SmallClass, on_delete=models.CASCADE, related_name="time_limits", verbose_name="小类"
    )
    filing_condition = models.CharField("立案条件", max_length=200, blank=True)
    filing_condition_en = models.CharField("立案条件(英文)", max_length=200, blank=True)
    closing_condition = models.CharField("结案条件", max_length=200, blank=True)
    closing_condition_en = models.CharField("结案条件(英文)", max_length=200, blank=True)
    urgency = models.CharField("紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    area_class = models.CharField("区域类别", max_length=1, blank=True, choices=[("A", "A"), ("B", "B"), ("C", "C")])
    minutes = models.PositiveIntegerField("时限(分钟)")
    working_time = models.BooleanField("按工作时间计", default=True)
    source = models.CharField("依据", max_length=120, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "处置时限"
        ordering = ["small_class", "urgency", "area_class", "filing_condition"]
        constraints = [
            models.UniqueConstraint(
                fields=["small_class", "filing_condition", "urgency", "area_class"], name="time_limit_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.small_class} {self.get_urgency_display()} {self.area_class or '*'} {self.minutes}"


class StageLimit(models.Model):
    """Limits of the non-handling stages (verify, register, dispatch, check) per city."""

    class Stage(models.TextChoices):
        VERIFY = "verify", "核实"
        REGISTER = "register", "立案"
        DISPATCH = "dispatch", "派遣"
        CHECK = "check", "核查"

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="stage_limits", verbose_name="城市")
    stage = models.CharField("阶段", max_length=10, choices=Stage.choices)
    minutes = models.PositiveIntegerField("时限(分钟)")
    working_time = models.BooleanField("按工作时间计", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "阶段时限"
        constraints = [models.UniqueConstraint(fields=["city", "stage"], name="stage_limit_unique")]

    def __str__(self) -> str:
        return f"{self.city} {self.get_stage_display()} {self.minutes}"


class Responsibility(models.Model):
    """Responsibility matrix (责任矩阵): small class × region → department.

    The most specific region (community over street over district) wins; a row with no
    small class is the region's fallback for anything without an owner.
    """

    small_class = models.ForeignKey(
        SmallClass,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="responsibilities",
        verbose_name="小类",
    )
    region = models.ForeignKey(
        "geo.Region", on_delete=models.CASCADE, related_name="responsibilities", verbose_name="区域"
    )
    department = models.ForeignKey(
        "org.Department", on_delete=models.CASCADE, related_name="responsibilities", verbose_name="部门"
    )

    class Meta:
        verbose_name = verbose_name_plural = "责任矩阵"
        constraints = [
            models.UniqueConstraint(fields=["small_class", "region"], name="responsibility_unique"),
            # NULLs are distinct in a unique index, so the fallback row needs its own constraint.
            models.UniqueConstraint(
                fields=["region"], condition=models.Q(small_class__isnull=True), name="responsibility_fallback_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.small_class or '*'} @ {self.region} → {self.department}"

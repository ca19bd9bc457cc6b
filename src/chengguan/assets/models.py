from django.db import models


class Component(models.Model):
    """部件: one city facility in the inventory, with its 16-digit code and its owner.

    The code is the 6-digit county code + 2-digit class + 2-digit small class + 6-digit serial
    (CJ/T 214), e.g. 3301110118000001 = 富阳区 + 公用设施 + 路灯 + 1.
    """

    class Status(models.TextChoices):
        NORMAL = "normal", "完好"
        DAMAGED = "damaged", "损坏"
        LOST = "lost", "丢失"
        REMOVED = "removed", "已拆除"

    code = models.CharField("部件编码", max_length=20, unique=True)
    small_class = models.ForeignKey(
        "catalog.SmallClass",
        on_delete=models.PROTECT,
        related_name="components",
        limit_choices_to={"kind": "component"},
        verbose_name="部件小类",
    )
    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="components", verbose_name="城市")
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    grid = models.ForeignKey(
        "geo.Grid", on_delete=models.SET_NULL, null=True, blank=True, related_name="components", verbose_name="单元网格"
    )
    owner = models.ForeignKey(
        "org.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
        verbose_name="权属部门",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.NORMAL)
    name = models.CharField("名称", max_length=80, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    installed_on = models.DateField("设置日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "部件"
        ordering = ["code"]
        indexes = [
            models.Index(fields=["city", "lon", "lat"]),
            models.Index(fields=["small_class", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

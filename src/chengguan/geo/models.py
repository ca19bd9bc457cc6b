from django.conf import settings
from django.db import models


class City(models.Model):
    """A jurisdiction running its own loop: its zone, calendar, clocks and code settings."""

    code = models.CharField("代码", max_length=40, unique=True)  # adcode, or a slug such as us-baltimore
    name = models.CharField("名称", max_length=80)
    name_en = models.CharField("英文名", max_length=80, blank=True)
    timezone = models.CharField("时区", max_length=64, default="Asia/Shanghai")
    calendar = models.ForeignKey(
        "worktime.WorkCalendar", on_delete=models.PROTECT, related_name="cities", verbose_name="工作日历"
    )
    grid_sequence_digits = models.PositiveSmallIntegerField("网格顺序码位数", default=3)
    # Issue the check task to the grid's inspector as soon as a department reports back.
    auto_request_check = models.BooleanField("自动派发核查", default=True)
    # Registration (立案) and closure need a shift leader rather than a call-taker.
    shiftlead_registers = models.BooleanField("值班长立案", default=False)
    # Duplicate suggestions: same small class within this radius and window.
    duplicate_radius_m = models.PositiveIntegerField("疑似重复半径(米)", default=50)
    duplicate_window_hours = models.PositiveIntegerField("疑似重复时间窗(小时)", default=72)

    class Meta:
        verbose_name = verbose_name_plural = "城市"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """District, street or community, with its administrative code and boundary (WGS84)."""

    class Level(models.TextChoices):
        DISTRICT = "district", "区县"
        STREET = "street", "街道"
        COMMUNITY = "community", "社区"

    code = models.CharField("区划代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="regions", verbose_name="城市")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", verbose_name="上级"
    )
    geometry = models.JSONField("边界(GeoJSON)", null=True, blank=True)
    area_m2 = models.FloatField("面积(平方米)", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "行政区域"
        ordering = ["code"]
        indexes = [models.Index(fields=["city", "level"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Grid(models.Model):
    """Unit grid (单元网格): the smallest management area, inside exactly one community."""

    class AreaClass(models.TextChoices):
        A = "A", "A 类（核心区）"
        B = "B", "B 类（建成区）"
        C = "C", "C 类（城郊与农村）"

    code = models.CharField("网格编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=80, blank=True)
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="grids", verbose_name="城市")
    community = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="grids", verbose_name="社区")
    street_code = models.CharField("街道代码", max_length=40, db_index=True)
    district_code = models.CharField("区县代码", max_length=40, db_index=True)
    geometry = models.JSONField("边界(GeoJSON)")
    area_m2 = models.FloatField("面积(平方米)")
    area_class = models.CharField("区域类别", max_length=1, choices=AreaClass.choices, default="B")
    center_lon = models.FloatField("中心经度")
    center_lat = models.FloatField("中心纬度")
    # Bounding box of the geometry (WGS84), for `?bbox=` map queries; filled by the import.
    min_lon = models.FloatField("最小经度", null=True, blank=True)
    min_lat = models.FloatField("最小纬度", null=True, blank=True)
    max_lon = models.FloatField("最大经度", null=True, blank=True)
    max_lat = models.FloatField("最大纬度", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "单元网格"
        ordering = ["code"]
        indexes = [
            models.Index(fields=["city", "center_lon", "center_lat"]),
            models.Index(fields=["city", "min_lon", "max_lon"], name="geo_grid_city_lon_extent"),
        ]

    def __str__(self) -> str:
        return self.code


class DutyGrid(models.Model):
    """Duty grid (责任网格): the unit grids an inspector patrols."""

    code = models.CharField("编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="duty_grids", verbose_name="城市")
    grids = models.ManyToManyField(Grid, related_name="duty_grids", verbose_name="单元网格")
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="duty_grids", blank=True, verbose_name="监督员"
    )

    class Meta:
        verbose_name = verbose_name_plural = "责任网格"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class GeoVersion(models.Model):
    """One row per change of geography; locators rebuild when the latest id moves."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+", verbose_name="城市")
    changed_at = models.DateTimeField("变更时间", auto_now_add=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "地理数据版本"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.city} #{self.pk}"

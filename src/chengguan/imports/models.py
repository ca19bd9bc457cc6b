"""What a 311 import keeps: the editable mappings, the city's import settings, the raw rows and
a log of runs."""

from django.conf import settings
from django.db import models

from chengguan.cases.models import Source


class ImportCity(models.Model):
    """How a city's 311 exports are imported: its layout, its lattice of grids, its defaults."""

    city = models.OneToOneField("geo.City", on_delete=models.CASCADE, related_name="import_settings",
                                verbose_name="城市")
    layout = models.CharField("数据格式", max_length=16)
    key = models.CharField("代码前缀", max_length=8, unique=True)
    # The lattice of square grids: cell (i, j) spans origin + i·step … origin + (i+1)·step.
    cell_m = models.PositiveIntegerField("网格边长(米)")
    origin_lon = models.FloatField("格网原点经度")
    origin_lat = models.FloatField("格网原点纬度")
    step_lon = models.FloatField("格网经度步长")
    step_lat = models.FloatField("格网纬度步长")
    fallback_class = models.ForeignKey("catalog.SmallClass", on_delete=models.PROTECT, related_name="+",
                                       verbose_name="兜底小类")
    root_department = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="+",
                                        verbose_name="上级部门")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name="导入账号")

    class Meta:
        verbose_name = verbose_name_plural = "导入城市设置"

    def __str__(self) -> str:
        return f"{self.city} ({self.layout})"


class TypeMapping(models.Model):
    """An export's request type → a small class (小类). Seeded on first sight; edit freely."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+", verbose_name="城市")
    value = models.CharField("导出类型", max_length=200)
    small_class = models.ForeignKey("catalog.SmallClass", on_delete=models.PROTECT, related_name="+",
                                    verbose_name="小类")
    seeded_by = models.CharField("初始依据", max_length=120, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "类型映射"
        ordering = ["city", "value"]
        constraints = [models.UniqueConstraint(fields=["city", "value"], name="imports_type_unique")]

    def __str__(self) -> str:
        return f"{self.value} → {self.small_class.code}"


class AgencyMapping(models.Model):
    """An export's agency → a department (专业部门). Seeded on first sight; edit freely."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+", verbose_name="城市")
    value = models.CharField("导出部门", max_length=200)
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="专业部门")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "部门映射"
        ordering = ["city", "value"]
        constraints = [models.UniqueConstraint(fields=["city", "value"], name="imports_agency_unique")]

    def __str__(self) -> str:
        return f"{self.value} → {self.department}"


class ChannelMapping(models.Model):
    """An export's channel (phone, web, app …) → a case source (来源). Seeded; edit freely."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+", verbose_name="城市")
    value = models.CharField("导出渠道", max_length=100, blank=True)
    source = models.CharField("案件来源", max_length=12, choices=Source.choices)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "渠道映射"
        ordering = ["city", "value"]
        constraints = [models.UniqueConstraint(fields=["city", "value"], name="imports_channel_unique")]

    def __str__(self) -> str:
        return f"{self.value or '（空）'} → {self.source}"


class ImportedRecord(models.Model):
    """The export's own row behind an imported case, keyed by (city, the export's request id)."""

    class DueSource(models.TextChoices):
        EXPORT = "export", "导出截止时间"
        COMPUTED = "computed", "按小类时限计算"

    # (city, source_id) is unique and leads with the city: no separate index on it.
    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+", verbose_name="城市",
                             db_index=False)
    source_id = models.CharField("导出编号", max_length=40)
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="imported",
                                verbose_name="案件")
    layout = models.CharField("数据格式", max_length=16)
    file_name = models.CharField("文件", max_length=200)
    row = models.PositiveIntegerField("行号")
    due_source = models.CharField("时限来源", max_length=10, choices=DueSource.choices)
    raw = models.JSONField("原始记录")
    imported_at = models.DateTimeField("导入时间")

    class Meta:
        verbose_name = verbose_name_plural = "导入原始记录"
        ordering = ["city", "source_id"]
        constraints = [models.UniqueConstraint(fields=["city", "source_id"], name="imports_record_unique")]

    def __str__(self) -> str:
        return f"{self.city_id}:{self.source_id}"


class ImportRun(models.Model):
    """One run of `import_311`: what it read, wrote, skipped and why."""

    city = models.ForeignKey("geo.City", on_delete=models.CASCADE, related_name="+", verbose_name="城市")
    layout = models.CharField("数据格式", max_length=16)
    file_name = models.CharField("文件", max_length=200)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    rows = models.PositiveIntegerField("读取行数", default=0)
    imported = models.PositiveIntegerField("新导入", default=0)
    already = models.PositiveIntegerField("此前已导入", default=0)
    skipped = models.JSONField("跳过（按原因）", default=dict, blank=True)
    notes = models.JSONField("调整（按类别）", default=dict, blank=True)
    summary = models.TextField("摘要", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入记录"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.started_at:%Y-%m-%d %H:%M}"

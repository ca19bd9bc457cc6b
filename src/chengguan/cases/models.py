from django.conf import settings
from django.db import models
from django.db.models import Q

from chengguan.catalog.models import Urgency


class Source(models.TextChoices):
    INSPECTOR = "inspector", "监督员上报"
    VOLUNTEER = "volunteer", "志愿者上报"
    HOTLINE = "hotline", "热线"
    PUBLIC = "public", "公众网站"
    OPEN311 = "open311", "Open311"
    LEADER = "leader", "领导交办"
    MEDIA = "media", "媒体曝光"


class State(models.TextChoices):
    REPORTED = "reported", "已上报"
    VERIFYING = "verifying", "待核实"
    PENDING = "pending", "待立案"
    REGISTERED = "registered", "待派遣"
    DISPATCHED = "dispatched", "待签收"
    HANDLING = "handling", "处置中"
    HANDLED = "handled", "待核查"
    CHECKING = "checking", "核查中"
    CLOSABLE = "closable", "待结案"
    CLOSED = "closed", "已结案"
    SUSPENDED = "suspended", "挂账"
    INVALID = "invalid", "无效"
    REJECTED = "rejected", "不予立案"
    CANCELLED = "cancelled", "作废"


class Stage(models.TextChoices):
    VERIFY = "verify", "核实"
    REGISTER = "register", "立案"
    DISPATCH = "dispatch", "派遣"
    HANDLE = "handle", "处置"
    CHECK = "check", "核查"


class Case(models.Model):
    number = models.CharField("案件号", max_length=24, unique=True)
    # Indexes cost every intake a write each: only those that lists and reports use are kept;
    # foreign keys covered by a composite index below carry none of their own.
    city = models.ForeignKey(
        "geo.City", on_delete=models.PROTECT, related_name="cases", verbose_name="城市", db_index=False
    )
    version = models.PositiveIntegerField("版本", default=1)
    state = models.CharField("状态", max_length=12, choices=State.choices)
    state_before_suspension = models.CharField(max_length=12, blank=True)
    source = models.CharField("来源", max_length=12, choices=Source.choices)

    small_class = models.ForeignKey(
        "catalog.SmallClass", on_delete=models.PROTECT, related_name="cases", verbose_name="小类", db_index=False
    )
    class_code = models.CharField("小类代码", max_length=8)
    urgency = models.CharField("紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    area_class = models.CharField("区域类别", max_length=1, default="B")
    filing_condition = models.CharField("立案条件", max_length=200, blank=True)

    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    grid = models.ForeignKey("geo.Grid", on_delete=models.PROTECT, null=True, related_name="cases", verbose_name="网格")
    grid_code = models.CharField("网格编码", max_length=20)
    community_code = models.CharField("社区代码", max_length=40)
    street_code = models.CharField("街道代码", max_length=40)
    district_code = models.CharField("区县代码", max_length=40)
    address = models.CharField("地址", max_length=200, blank=True)
    description = models.TextField("描述", blank=True)
    component_code = models.CharField("部件编码", max_length=20, blank=True)
    self_handled = models.BooleanField("自处理", default=False)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_cases",
        verbose_name="上报人",
    )
    reporter_name = models.CharField("举报人姓名", max_length=80, blank=True)
    reporter_phone = models.CharField("举报人电话", max_length=32, blank=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)

    supervised = models.BooleanField("督办", default=False)
    priority = models.SmallIntegerField("优先级", default=0)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates", verbose_name="合并至"
    )
    end_reason = models.CharField("办结说明", max_length=400, blank=True)

    # Milestones, written once when they happen (evaluation reads these facts).
    reported_at = models.DateTimeField("上报时间")
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    registered_at = models.DateTimeField("立案时间", null=True, blank=True)
    dispatched_at = models.DateTimeField("派遣时间", null=True, blank=True)
    handled_at = models.DateTimeField("处置反馈时间", null=True, blank=True)
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="cases",
        verbose_name="当前部门", db_index=False,
    )
    suggested_department = models.ForeignKey(
        "org.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="建议部门",
        db_index=False,
    )
    rework_count = models.PositiveSmallIntegerField("返工次数", default=0)
    return_count = models.PositiveSmallIntegerField("回退次数", default=0)
    extension_count = models.PositiveSmallIntegerField("延期次数", default=0)

    # The running stage clock, copied here so that lists filter lights with an index.
    stage = models.CharField("当前阶段", max_length=10, choices=Stage.choices, blank=True)
    stage_due_at = models.DateTimeField("阶段时限", null=True, blank=True)
    stage_yellow_at = models.DateTimeField("黄灯时间", null=True, blank=True)
    # True while the case is open, NULL once it ends: partial indexes on "is_open IS NOT NULL"
    # hold only the open cases (a few percent of a city's history), and SQLite can use them
    # because the test carries no parameter.
    is_open = models.BooleanField("在办", null=True, default=True)
    calendar_warning = models.CharField("日历提示", max_length=200, blank=True)

    rating = models.PositiveSmallIntegerField("满意度", null=True, blank=True)
    rating_comment = models.CharField("评价", max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "案件"
        indexes = [
            models.Index(fields=["city", "-reported_at", "-id"], name="case_board"),
            models.Index(fields=["state", "-reported_at", "-id"], name="case_state_board"),
            models.Index(fields=["stage_due_at"], name="case_due", condition=Q(stage_due_at__isnull=False)),
            models.Index(fields=["department", "state"], name="case_department_state"),
            models.Index(fields=["class_code", "reported_at"], name="case_class_time"),
            models.Index(fields=["street_code", "-reported_at", "-id"], name="case_street_board"),
            models.Index(fields=["grid_code", "-reported_at", "-id"], name="case_grid_board"),
            # Led by city like case_board, so that the planner weighs the two on equal terms and
            # takes the far smaller partial one for open cases.
            models.Index(fields=["city", "-reported_at", "-id"], name="case_open_board",
                         condition=Q(is_open__isnull=False)),
            models.Index(fields=["city", "lon", "lat", "stage_due_at", "stage_yellow_at"], name="case_open_map",
                         condition=Q(is_open__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number


class Task(models.Model):
    """One dispatch of a case to a department (派遣任务); its handling clock and facts."""

    class Status(models.TextChoices):
        OPEN = "open", "处置中"
        AWAITING_CHECK = "awaiting_check", "待核查"
        DONE = "done", "已办结"
        RETURNED = "returned", "已回退"
        CANCELLED = "cancelled", "已作废"

    # No single-column indexes on case, department or dispatched_at: (case, seq) and
    # (department, dispatched_at) lead with them, and every query by time names a department.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks", db_index=False)
    seq = models.PositiveSmallIntegerField()
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="tasks", db_index=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    dispatched_at = models.DateTimeField()
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    limit_minutes = models.PositiveIntegerField()
    working_time = models.BooleanField(default=True)
    due_at = models.DateTimeField()
    signed_at = models.DateTimeField(null=True, blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)  # the feedback that passed its check
    on_time = models.BooleanField(null=True)
    reworks = models.PositiveSmallIntegerField(default=0)
    extended_minutes = models.PositiveIntegerField(default=0)
    suspended_minutes = models.PositiveIntegerField(default=0)
    check_wait_minutes = models.PositiveIntegerField(default=0)
    returned = models.BooleanField(default=False)
    returned_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    appealed = models.BooleanField(default=False)
    # Counted in the department's evaluation. False only for an imported task whose deadline the
    # export did not give (it was computed here): an agency is not ranked on a deadline it never set.
    counted = models.BooleanField("计入考核", default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="task_seq_unique")]
        indexes = [models.Index(fields=["department", "dispatched_at"], name="task_department_time")]
        ordering = ["case", "seq"]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq}"


class TaskRequest(models.Model):
    """A department's request on a task (extension, return, suspension) and its decision."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", "延期"
        RETURN = "return", "回退"
        SUSPEND = "suspend", "挂账"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved = models.BooleanField(null=True)
    granted_minutes = models.PositiveIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # One pending request per task and kind: the database refuses a second.
            models.UniqueConstraint(
                fields=["task", "kind"], condition=Q(approved__isnull=True), name="one_pending_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.task}"


class StageClock(models.Model):
    """One run of a stage's clock: when it started, when it is due, whether it ended on time."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, null=True, blank=True, related_name="clocks")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="clock_tasks"
    )
    started_at = models.DateTimeField()
    limit_minutes = models.PositiveIntegerField()
    working_time = models.BooleanField(default=True)
    due_at = models.DateTimeField()
    yellow_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    on_time = models.BooleanField(null=True)

    class Meta:
        ordering = ["case", "started_at", "id"]
        indexes = [
            models.Index(fields=["stage", "started_at"], name="clock_stage_time"),
            models.Index(fields=["assignee", "stage"], name="clock_assignee", condition=Q(ended_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.started_at:%Y-%m-%d %H:%M}"


class Event(models.Model):
    """The append-only log: one row per applied operation."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    operation = models.CharField(max_length=24)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    internal = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    was_late = models.BooleanField(null=True)

    class Meta:
        ordering = ["case", "at", "id"]
        indexes = [models.Index(fields=["operation", "at"], name="event_operation_time")]

    def __str__(self) -> str:
        return f"{self.operation} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # The log is append-only: a row, once written, is never rewritten.
        if not self._state.adding:
            raise ValueError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("case events are append-only")


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"cases/{instance.case.reported_at:%Y/%m}/{instance.case.number}/{filename}"


class Attachment(models.Model):
    class Stage(models.TextChoices):
        REPORT = "report", "上报"
        HANDLE = "handle", "处置"
        CHECK = "check", "核查"
        FOLLOW_UP = "follow_up", "补充"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    file = models.FileField(upload_to=attachment_path)  # the original, EXIF kept, staff only
    public_file = models.FileField(upload_to=attachment_path)  # re-encoded without metadata
    thumb = models.FileField(upload_to=attachment_path)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    gps_lon = models.FloatField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.stage} #{self.pk}"


class CaseNumberCounter(models.Model):
    """Per local day, the last sequence handed out: numbers are unique across cities."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} {self.last}"

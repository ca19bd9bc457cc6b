"""The notification outbox: messages to reporters and departments, written in the case's
transaction and sent afterwards by the `notify` worker; reporters' contact details; reminders."""

from django.db import models
from django.db.models import Q


class Contact(models.Model):
    """How to reach a case's reporter, and in which language. One per case that left details."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="contact", verbose_name="案件")
    phone = models.CharField("电话", max_length=32, blank=True)
    # Digits only, without +86: what a citizen types to find their cases is matched on this.
    phone_key = models.CharField("电话（数字）", max_length=20, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    language = models.CharField("语言", max_length=8, default="zh-hans")
    created_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = verbose_name_plural = "举报人联系方式"
        indexes = [models.Index(fields=["phone_key"], name="contact_phone", condition=~Q(phone_key=""))]

    def __str__(self) -> str:
        return f"{self.case_id}"


class Outbox(models.Model):
    """One message to one recipient on one channel; sent at least once by the worker."""

    class Channel(models.TextChoices):
        EMAIL = "email", "电子邮件"
        SMS = "sms", "短信"
        WEBHOOK = "webhook", "Webhook"

    class Audience(models.TextChoices):
        REPORTER = "reporter", "举报人"
        DEPARTMENT = "department", "专业部门"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    recipient = models.CharField("接收方", max_length=300)
    audience = models.CharField("对象", max_length=12, choices=Audience.choices)
    department = models.ForeignKey(
        "org.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="部门"
    )
    language = models.CharField("语言", max_length=8, default="zh-hans")
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    subject_en = models.CharField("英文标题", max_length=200, blank=True)
    body_en = models.TextField("英文内容", blank=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="案件",
        db_index=False,
    )
    event = models.ForeignKey(
        "cases.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="案件事件",
        db_index=False,
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间")
    next_attempt_at = models.DateTimeField("下次发送时间")
    claimed_at = models.DateTimeField("领取时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知发件箱"
        constraints = [
            # A signal handled twice for one event never queues the same message twice.
            models.UniqueConstraint(fields=["event", "channel", "recipient"], name="outbox_once_per_event"),
        ]
        indexes = [
            # What the worker looks for: rows still to send (a few), not the sent history (many).
            models.Index(fields=["next_attempt_at", "id"], name="outbox_due",
                         condition=Q(status__in=["pending", "sending"])),
            models.Index(fields=["case", "-created_at"], name="outbox_case"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}: {self.subject}"

    def text(self) -> tuple[str, str]:
        """(subject, body) in the recipient's language: English when they chose it, Chinese below."""
        if self.language == "en" and self.body_en:
            return self.subject_en or self.subject, f"{self.body_en}\n\n{self.body}"
        return self.subject, self.body


class Reminder(models.Model):
    """催办: a task's handling clock turned yellow or red; one per task and colour."""

    class Colour(models.TextChoices):
        YELLOW = "yellow", "黄灯"
        RED = "red", "红灯"

    task = models.ForeignKey("cases.Task", on_delete=models.CASCADE, related_name="reminders", verbose_name="任务")
    colour = models.CharField("灯色", max_length=6, choices=Colour.choices)
    created_at = models.DateTimeField("催办时间")
    event = models.ForeignKey(
        "cases.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="案件事件"
    )

    class Meta:
        verbose_name = verbose_name_plural = "催办"
        constraints = [models.UniqueConstraint(fields=["task", "colour"], name="one_reminder_per_colour")]

    def __str__(self) -> str:
        return f"{self.task} {self.colour}"

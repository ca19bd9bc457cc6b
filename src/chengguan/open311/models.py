"""Open311 GeoReport v2: the keys issued to client systems and what they sent us.

The case itself lives in `cases`; these rows only record the Open311 side of it (which key
posted it, the token, the media URL given as text) and the updates a client posted back.
"""

from __future__ import annotations

import secrets

from django.db import models


def new_key() -> str:
    return secrets.token_urlsafe(24)


class ApiKey(models.Model):
    """A key for POSTing over Open311, issued to one client system (a FixMyStreet site, an app)."""

    key = models.CharField("密钥", max_length=64, unique=True, default=new_key)
    name = models.CharField("使用方", max_length=120, help_text="谁在使用这个密钥（系统或单位名称）")
    contact = models.CharField("联系方式", max_length=200, blank=True)
    rate_per_minute = models.PositiveIntegerField("每分钟请求上限", default=60)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 密钥"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Open311Request(models.Model):
    """The Open311 side of a case that came in through `POST requests`."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="open311", verbose_name="案件"
    )
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="requests", verbose_name="密钥")
    token = models.CharField("令牌", max_length=40, unique=True)
    media_url = models.TextField("媒体链接", blank=True)  # as sent, one URL a line; never fetched
    # Contact data the client sent: for staff only, never shown over Open311.
    email = models.CharField("电子邮箱", max_length=254, blank=True)
    device_id = models.CharField("设备标识", max_length=120, blank=True)
    account_id = models.CharField("账号标识", max_length=120, blank=True)
    attributes = models.JSONField("附加属性", default=dict, blank=True)
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = verbose_name_plural = "Open311 请求"
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.api_key_id}"


class ReceivedUpdate(models.Model):
    """An update a client posted to `servicerequestupdates` (FixMyStreet: a comment on a report)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="updates", verbose_name="密钥")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="open311_updates", verbose_name="案件"
    )
    external_id = models.CharField("对方更新编号", max_length=120)
    status = models.CharField("状态", max_length=40, blank=True)
    description = models.TextField("内容", blank=True)
    media_url = models.TextField("媒体链接", blank=True)
    author_name = models.CharField("提交人", max_length=120, blank=True)  # staff only
    email = models.CharField("电子邮箱", max_length=254, blank=True)  # staff only
    updated_at = models.DateTimeField("对方更新时间")
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = verbose_name_plural = "Open311 收到的更新"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["api_key", "external_id"], name="open311_update_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} #{self.external_id}"

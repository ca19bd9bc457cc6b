"""Senders, one per channel, chosen in settings (NOTIFY_SENDERS: channel → dotted path).

A sender's `send(message)` returns when the message is handed over and raises on failure; the
worker records the error and retries later. Defaults: e-mail through Django's e-mail backend
(EMAIL_BACKEND, EMAIL_HOST, DEFAULT_FROM_EMAIL…), a JSON POST for webhooks, and an SMS sender
that only writes the message to the log — replace it with a gateway of your own (subclass
`SMSSender` and implement `send_sms`).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from chengguan.cases.present import mask_phone
from chengguan.notify.models import Outbox

DEFAULT_SENDERS = {
    "email": "chengguan.notify.senders.EmailSender",
    "sms": "chengguan.notify.senders.LoggingSMSSender",
    "webhook": "chengguan.notify.senders.WebhookSender",
}

log = logging.getLogger("chengguan.notify")


class SendFailed(Exception):
    """The channel refused the message; the worker retries it later."""


class Sender:
    def send(self, message: Outbox) -> None:
        raise NotImplementedError


class EmailSender(Sender):
    def send(self, message: Outbox) -> None:
        subject, body = message.text()
        sent = send_mail(subject, body, None, [message.recipient], fail_silently=False)
        if not sent:
            raise SendFailed("the e-mail backend sent nothing")


class WebhookSender(Sender):
    """POST the message as JSON; any 2xx answer is success. NOTIFY_WEBHOOK_TOKEN adds a bearer token."""

    def payload(self, message: Outbox) -> dict:
        return {
            "id": message.pk,
            "audience": message.audience,
            "department": message.department.code if message.department_id else None,
            "case": message.case.number if message.case_id else None,
            "event": message.event.operation if message.event_id else None,
            "language": message.language,
            "subject": message.subject,
            "body": message.body,
            "subject_en": message.subject_en,
            "body_en": message.body_en,
            "created_at": message.created_at.isoformat(),
        }

    def send(self, message: Outbox) -> None:
        url = message.recipient
        if urlsplit(url).scheme not in ("http", "https"):
            raise SendFailed(f"not an http(s) URL: {url}")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": f"outbox-{message.pk}"}
        token = getattr(settings, "NOTIFY_WEBHOOK_TOKEN", "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(self.payload(message), ensure_ascii=False).encode()
        # The URL comes from the operator's settings (scheme checked above), never from a user.
        request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
        timeout = float(getattr(settings, "NOTIFY_WEBHOOK_TIMEOUT", 10))
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise SendFailed(f"HTTP {response.status}")


class SMSSender(Sender):
    """The SMS gateway interface: implement `send_sms(phone, text)` for your provider."""

    def send(self, message: Outbox) -> None:
        self.send_sms(message.recipient, message.text()[1])

    def send_sms(self, phone: str, text: str) -> None:
        raise NotImplementedError


class LoggingSMSSender(SMSSender):
    """Writes the text to the log instead of sending it: for trials and for cities without a gateway."""

    def send_sms(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), text)


def sender_for(channel: str) -> Sender:
    paths = {**DEFAULT_SENDERS, **(getattr(settings, "NOTIFY_SENDERS", None) or {})}
    path = paths.get(channel)
    if not path:
        raise SendFailed(f"no sender for channel {channel}")
    return import_string(path)()

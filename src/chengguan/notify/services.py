"""Filling the outbox from case events (inside the case's transaction), and reading contacts."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from chengguan.cases.citizens import phone_key
from chengguan.cases.models import Case, Event
from chengguan.notify import messages
from chengguan.notify.models import Contact, Outbox
from chengguan.org.models import Department, User

LANGUAGES = ("zh-hans", "en")


def remember_contact(case: Case, event: Event) -> Contact | None:
    """Keep the reporter's phone, e-mail and language from the report, if they left any."""
    email = getattr(case, "reporter_email", "") or ""
    if not case.reporter_phone and not email:
        return None
    language = (event.data or {}).get("language", LANGUAGES[0])
    contact, _ = Contact.objects.update_or_create(
        case=case,
        defaults={
            "phone": case.reporter_phone,
            "phone_key": phone_key(case.reporter_phone),
            "email": email,
            "language": language if language in LANGUAGES else LANGUAGES[0],
            "created_at": event.at,
        },
    )
    return contact


def reporter_recipient(contact: Contact) -> tuple[str, str] | None:
    """(channel, recipient): e-mail when the reporter left one (free, longer), else SMS."""
    if contact.email:
        return Outbox.Channel.EMAIL, contact.email
    if contact.phone:
        return Outbox.Channel.SMS, contact.phone
    return None


def department_recipients(department: Department) -> list[tuple[str, str]]:
    """The department's webhook (NOTIFY_DEPARTMENT_WEBHOOK, one for the city) and its users' e-mails."""
    found: list[tuple[str, str]] = []
    hook = getattr(settings, "NOTIFY_DEPARTMENT_WEBHOOK", "") or ""
    if hook:
        found.append((Outbox.Channel.WEBHOOK, hook))
    emails = (
        User.objects.filter(department=department, role="department", is_active=True)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
    )
    found += [(Outbox.Channel.EMAIL, email) for email in dict.fromkeys(emails)]
    return found


def _queue(case: Case, event: Event, text: messages.Text, recipients, *, audience: str, language: str,
           department: Department | None = None) -> list[Outbox]:
    rows = []
    for channel, recipient in recipients:
        row = Outbox(
            channel=channel,
            recipient=recipient,
            audience=audience,
            department=department,
            language=language,
            subject=text.subject[:200],
            body=text.body,
            subject_en=text.subject_en[:200] if language == "en" else "",
            body_en=text.body_en if language == "en" else "",
            case=case,
            event=event,
            created_at=event.at,
            next_attempt_at=event.at,
        )
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:  # this event's message to this recipient is already queued
            continue
        rows.append(row)
    return rows


def queue_for_event(case: Case, event: Event) -> list[Outbox]:
    """The messages one case event calls for: to the reporter, and to the department."""
    rows: list[Outbox] = []
    contact = remember_contact(case, event) if event.operation == "report" else None
    if contact is None and event.operation != "report":
        contact = Contact.objects.filter(case=case).first()
    text = messages.reporter_text(case, event) if contact is not None else None
    if text is not None:
        target = reporter_recipient(contact)
        if target:
            rows += _queue(case, event, text, [target], audience=Outbox.Audience.REPORTER, language=contact.language)
    dept_text = messages.department_text(case, event)
    if dept_text is not None:
        code = (event.data or {}).get("department")
        department = Department.objects.filter(code=code).first() if code else case.department
        if department is not None:
            rows += _queue(case, event, dept_text, department_recipients(department),
                           audience=Outbox.Audience.DEPARTMENT, language=LANGUAGES[0], department=department)
    return rows

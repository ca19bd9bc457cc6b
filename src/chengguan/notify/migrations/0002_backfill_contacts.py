"""Contacts for the cases reported before the outbox existed, so that tracking by phone finds them.

No message is queued for their past events."""

import re

from django.db import migrations


def _key(phone):
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits[:20]


def backfill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Contact = apps.get_model("notify", "Contact")
    rows = []
    for pk, phone, reported_at in (
        Case.objects.exclude(reporter_phone="").order_by("pk").values_list("pk", "reporter_phone", "reported_at")
        .iterator(chunk_size=2000)
    ):
        rows.append(Contact(case_id=pk, phone=phone, phone_key=_key(phone), created_at=reported_at))
        if len(rows) >= 2000:
            Contact.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    Contact.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

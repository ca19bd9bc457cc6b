"""The citizen on the public portal: proving one reported a case, without an account.

A reporter is known by the case number plus either
- the phone number they left with the report (compared digit by digit: spaces, dashes and a
  leading +86 are ignored), or
- the reporter code (查询码) shown once when the report is made and sent in the acknowledgement
  message: eight characters derived from the case number with the site's `SECRET_KEY` (HMAC),
  so nothing is stored and the code cannot be worked out from the number.

Every attempt counts against two limits, per address and per case number, so neither a phone
number nor a code can be guessed by trying.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from chengguan.cases.models import Case
from chengguan.errors import Forbidden, Invalid, NotFound
from chengguan.ratelimit import client_address, hit

# No 0/O, 1/I/L: a code read out over the phone is not misheard.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
PROOF_WINDOW_SECONDS = 3600
MINE_LIMIT = 50
NUMBER = re.compile(r"^[0-9]{8,20}$")


def reporter_code(number: str) -> str:
    """The reporter code of case `number` (8 characters)."""
    value = int.from_bytes(salted_hmac("chengguan.cases.citizens.reporter_code", number).digest()[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        value, rest = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[rest])
    return "".join(chars)


def phone_key(phone: str) -> str:
    """Digits only, without the country code: '+86 138-1234-5678' → '13812345678'."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits[:20]


def _clean_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", code or "").upper()


def limit_attempts(request, number: str) -> None:
    """Count one attempt to prove who one is: per address and per case number (429 past the limit)."""
    per_hour = int(getattr(settings, "PUBLIC_PROOF_PER_HOUR", 20))
    hit("public-proof", client_address(request), limit=per_hour, window_seconds=PROOF_WINDOW_SECONDS)
    hit("public-proof-case", number, limit=per_hour, window_seconds=PROOF_WINDOW_SECONDS)


def check_reporter(case: Case, *, phone: str = "", code: str = "") -> None:
    """Refuse (403 naming the field) unless `phone` or `code` shows the caller reported `case`."""
    phone, code = (phone or "").strip(), _clean_code(code)
    if not phone and not code:
        raise Invalid(
            "请填写您反映时留下的电话号码，或查询码",
            "Give the phone number you left with the report, or your reporter code",
            field="phone",
        )
    if code:
        if len(code) > 40 or not constant_time_compare(code, reporter_code(case.number)):
            raise Forbidden("查询码不正确", "The reporter code is not right", field="code")
        return
    key = phone_key(phone)
    if len(key) < 5 or len(phone) > 40:
        raise Invalid("电话号码格式不对", "That does not look like a phone number", field="phone")
    stored = phone_key(case.reporter_phone)
    if not stored or not constant_time_compare(stored, key):
        raise Forbidden(
            "电话号码与该案件登记的不一致", "The phone number is not the one left with this case", field="phone"
        )


def cases_with_phone(phone: str, *, city_id: int | None = None, limit: int = MINE_LIMIT):
    """Cases whose reporter left this phone number, newest first.

    Read from the reporters' contact book (`notify.Contact`, one row per case that left
    details, indexed on the phone's digits), not by scanning the cases.
    """
    key = phone_key(phone)
    if not key:
        return Case.objects.none()
    qs = Case.objects.filter(contact__phone_key=key)
    if city_id is not None:
        qs = qs.filter(city_id=city_id)
    return qs.select_related("small_class").order_by("-reported_at", "-id")[:limit]


def find_my_cases(request, *, phone: str, number: str) -> tuple[Case, list[Case]]:
    """The cases reported with `phone`, proven by one of them: `number` must be a case reported with it.

    A phone number alone lists nothing: whoever knows someone's number does not learn what they
    reported. Raises Invalid/NotFound/Forbidden naming the field, Throttled past the limits.
    """
    number = re.sub(r"\s+", "", number or "")
    hit("public-mine", client_address(request), limit=settings.PUBLIC_RATE_PER_MINUTE, window_seconds=60)
    if not phone.strip():
        raise Invalid("请填写您反映时留下的电话号码", "Give the phone number you left with your reports", field="phone")
    if not NUMBER.match(number):
        raise Invalid("请填写其中一件案件的案件号（8 到 20 位数字）",
                      "Give the number of one of your cases (8 to 20 digits)", field="number")
    limit_attempts(request, number)
    case = Case.objects.filter(number=number).first()
    if case is None:
        raise NotFound(f"没有找到案件 {number}，请核对案件号", f"No case {number}: check the number", field="number")
    check_reporter(case, phone=phone)
    found = list(cases_with_phone(phone, city_id=case.city_id, limit=MINE_LIMIT))
    if case not in found:  # reported before the contact book: still the caller's
        found.insert(0, case)
    return case, found

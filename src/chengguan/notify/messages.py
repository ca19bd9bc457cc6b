"""What a notification says: one Chinese and one English text per case event.

Reporters hear of the steps a citizen can follow (the public page's words); departments hear of
a citizen's follow-up and of reminders (催办). Texts are plain: no HTML, whatever the notes hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from chengguan.cases import workflow
from chengguan.cases.citizens import reporter_code
from chengguan.cases.models import Case, Event

# Operations a reporter is told about; a branch is picked by the state the event led to.
REPORTER_OPERATIONS = frozenset({
    "report", "verify", "register", "dispatch", "feedback", "check", "close", "reopen", "dispute", "reject",
    "cancel", "merge", "decide_return", "decide_suspend", "resume",
})
NOTE_LIMIT = 300


@dataclass(frozen=True)
class Text:
    subject: str
    body: str
    subject_en: str
    body_en: str


def case_url(case: Case) -> str:
    """The case's public page, absolute when PUBLIC_BASE_URL is set (https://city.example.gov.cn)."""
    base = (getattr(settings, "PUBLIC_BASE_URL", "") or "").rstrip("/")
    return base + reverse("public-case", kwargs={"number": case.number})


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 1] + "…"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _department(case: Case, event: Event) -> tuple[str, str]:
    dept = case.department
    if dept is None:
        return "", ""
    return dept.name, dept.name_en or dept.name


def reporter_text(case: Case, event: Event) -> Text | None:
    """The message to the reporter about `event`, or None when it is not one they follow."""
    op, to = event.operation, event.to_state
    if op not in REPORTER_OPERATIONS or event.internal:
        return None
    if op != "report" and event.from_state == to:
        return None  # a refused decision, or nothing a citizen would see change
    data = event.data or {}
    note = _short(event.note)
    name, name_en = _department(case, event)
    n = case.number
    url = case_url(case)
    zh = en = ""
    if op == "report":
        code = reporter_code(n)
        zh = (f"已收到您反映的问题，案件号 {n}，查询码 {code}。凭案件号可查询进度；凭案件号和查询码（或您的电话）"
              f"可补充情况。{url}")
        en = (f"We have your report: case {n}, reporter code {code}. Follow it with the number; add to it with the "
              f"number and the code (or your phone). {url}")
    elif op == "verify":
        if to == workflow.INVALID:
            zh = f"案件 {n}：监督员到现场没有发现所反映的问题，可能已被处理。如问题仍在，欢迎再次反映。"
            en = f"Case {n}: the inspector found nothing on site; it may have been dealt with. If not, report it again."
        else:
            zh = f"案件 {n}：经现场核实，问题属实，等待立案。"
            en = f"Case {n}: confirmed on site, waiting to be filed."
    elif op == "register":
        zh = f"案件 {n} 已立案，正在安排处理部门。"
        en = f"Case {n} is filed; a department is being assigned."
    elif op == "dispatch":
        due = _when(event.due_at)
        zh = f"案件 {n} 已交给{name}处理" + (f"，处理时限 {due}。" if due else "。")
        en = f"Case {n} is with {name_en}" + (f", to be fixed by {due}." if due else ".")
    elif op == "feedback":
        result = _short(data.get("result") or event.note)
        zh = f"案件 {n}：{name}反馈已处理（{result}），监督员将到现场核查。"
        en = f"Case {n}: {name_en} reports it fixed ({result}); an inspector will check it on site."
    elif op == "check":
        if to == workflow.CLOSABLE:
            zh = f"案件 {n}：现场核查确认已解决，即将办结。"
            en = f"Case {n}: checked on site and fixed; it will be closed shortly."
        else:
            zh = f"案件 {n}：现场核查发现尚未解决，已退回{name}重新处理。"
            en = f"Case {n}: not fixed on inspection; sent back to {name_en}."
    elif op == "close":
        from chengguan.cases.services import dispute_days

        days = dispute_days()
        zh = (f"案件 {n} 已办结。欢迎评价处理结果；如问题没有解决，{days} 天内可在案件页面告诉我们。{url}")
        en = (f"Case {n} is closed. Please rate the result; if it is not fixed, tell us on the case page within "
              f"{days} days. {url}")
    elif op == "reopen":
        zh, en = f"案件 {n} 已重新办理：{note}", f"Case {n} is reopened: {note}"
    elif op == "dispute":
        zh = f"已收到您对案件 {n}“问题没有解决”的反映，受理员将重新审核。"
        en = f"We have your word that case {n} is not fixed: a call-taker will review it."
    elif op == "reject":
        zh, en = f"案件 {n} 不予立案：{note}", f"Case {n} is not taken up: {note}"
        if data.get("refer_to"):
            refer = _short(data["refer_to"])
            zh += f"。该问题请联系：{refer}"
            en += f". Please contact: {refer}"
    elif op == "cancel":
        zh, en = f"案件 {n} 已撤销：{note}", f"Case {n} is withdrawn: {note}"
    elif op == "merge":
        into = data.get("into", "")
        zh = f"案件 {n} 与案件 {into} 是同一问题，已合并办理，请关注案件 {into} 的进度。"
        en = f"Case {n} is the same problem as case {into} and is handled there: follow case {into}."
    elif op == "decide_return":
        zh, en = f"案件 {n}：正在重新安排处理部门。", f"Case {n}: another department is being assigned."
    elif op == "decide_suspend":
        reason = _short(data.get("reason", ""))
        zh = f"案件 {n} 暂缓处理：{reason}。条件具备后会恢复办理。"
        en = f"Case {n} is on hold: {reason}. Work resumes when it can."
    elif op == "resume":
        zh, en = f"案件 {n} 已恢复处理。", f"Work on case {n} has resumed."
    state_zh, state_en = workflow.STATE_LABELS.get(case.state, (case.state, case.state))
    return Text(subject=f"案件 {n}：{state_zh}", body=zh, subject_en=f"Case {n}: {state_en}", body_en=en)


def department_text(case: Case, event: Event) -> Text | None:
    """The message to the case's department about `event`, or None."""
    n = case.number
    what = f"{case.small_class.name}，{case.address}" if case.address else case.small_class.name
    if event.operation == "follow_up" and event.actor_role == workflow.CITIZEN:
        photos = event.attachments.count()
        extra = f"（附照片 {photos} 张）" if photos else ""
        body = f"【市民补充】案件 {n}（{what}）：{_short(event.note)}{extra}"
        return Text(subject=f"案件 {n}：市民补充情况", body=body, subject_en="", body_en="")
    if event.operation == "remind":
        colour = (event.data or {}).get("colour")
        due = _when(event.due_at)
        if colour == "red":
            body = f"【催办·红灯】案件 {n}（{what}）已超过处置时限 {due}，请尽快办理并反馈。"
        else:
            body = f"【催办·黄灯】案件 {n}（{what}）处置时限 {due} 将到，请抓紧办理。"
        return Text(subject=f"催办：案件 {n}", body=body, subject_en="", body_en="")
    return None

"""Who may act on which case: the workflow table says which roles, this module says which cases."""

from __future__ import annotations

from chengguan.cases import workflow
from chengguan.cases.models import Case
from chengguan.errors import Forbidden

COMMAND_CENTER = frozenset({"operator", "shiftlead", "dispatcher"})
CITY_WIDE_READERS = COMMAND_CENTER | {"leader", "evaluator", "admin"}


def roles_for(user, case: Case) -> frozenset[str]:
    """The workflow roles `user` holds toward `case` (their role, plus `reporter` if they reported it)."""
    if user is None:
        return frozenset()
    roles = {user.role}
    if case.reporter_id is not None and case.reporter_id == user.pk:
        roles.add(workflow.REPORTER)
    return frozenset(roles)


def in_city(user, case: Case) -> bool:
    return user.city_id is None or user.city_id == case.city_id


def check_scope(user, case: Case, operation: str) -> None:
    """Refuse an operation the role allows in general but not on this particular case."""
    if user is None:
        return
    if not in_city(user, case):
        raise Forbidden("不能处理其他城市的案件", "This case belongs to another city", field="case")
    rule = workflow.TABLE.get(operation)
    if rule is None or operation == "follow_up":
        return
    if (
        user.role == "department"
        and "department" in rule.roles
        and (user.department_id is None or user.department_id != case.department_id)
    ):
        raise Forbidden("该案件不在本部门的处置任务中", "This case is not dispatched to your department", field="case")
    if user.role == "inspector" and operation in {"verify", "check"}:
        assignee = (
            case.clocks.filter(ended_at__isnull=True, stage=operation).values_list("assignee_id", flat=True).first()
        )
        if assignee is not None and assignee != user.pk and not user.duty_grids.filter(grids=case.grid_id).exists():
            raise Forbidden(
                "该核实/核查任务已派给其他监督员", "This task is assigned to another inspector", field="case"
            )


def allowed_operations(user, case: Case) -> list[str]:
    """Operations `user` may apply to `case` now: what a page offers, and nothing it would refuse.

    Uses the same table and scope rules as the services; branch fields are not needed here.
    """
    if user is None or not user.is_authenticated:
        return []
    roles = roles_for(user, case)
    pending = None  # kinds of requests awaiting a decision, read once when it matters
    found = []
    for operation, rule in workflow.TABLE.items():
        if case.state not in rule.from_states:
            continue
        allowed = rule.roles
        if case.city.shiftlead_registers and operation in {"register", "close"}:
            allowed = frozenset({workflow.SHIFTLEAD})
        if not (allowed & roles):
            continue
        if operation == "close" and case.state == workflow.REPORTED and not case.self_handled:
            continue
        if operation in REQUESTS or operation in DECISIONS:
            if pending is None:
                from chengguan.cases.models import TaskRequest

                pending = set(
                    TaskRequest.objects.filter(task__case=case, approved__isnull=True).values_list("kind", flat=True)
                )
            if operation in REQUESTS and REQUESTS[operation] in pending:
                continue
            if operation in DECISIONS and DECISIONS[operation] not in pending:
                continue
        try:
            check_scope(user, case, operation)
        except Forbidden:
            continue
        found.append(operation)
    return found


REQUESTS = {"request_extension": "extension", "return": "return", "suspend": "suspend"}
DECISIONS = {"decide_extension": "extension", "decide_return": "return", "decide_suspend": "suspend"}

"""The closed loop as a table: which operation moves a case from which state to which, who may
apply it, and what it does to the stage clocks.

Pure: standard library only. `decide()` is the one place that says yes or no to an operation;
the service layer persists what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chengguan.errors import Conflict, Forbidden, Invalid, NotFound

# States
REPORTED = "reported"
VERIFYING = "verifying"
PENDING = "pending"
REGISTERED = "registered"
DISPATCHED = "dispatched"
HANDLING = "handling"
HANDLED = "handled"
CHECKING = "checking"
CLOSABLE = "closable"
CLOSED = "closed"
SUSPENDED = "suspended"
INVALID = "invalid"
REJECTED = "rejected"
CANCELLED = "cancelled"

END_STATES = frozenset({CLOSED, INVALID, REJECTED, CANCELLED})
ALL_STATES = (
    frozenset({REPORTED, VERIFYING, PENDING, REGISTERED, DISPATCHED, HANDLING, HANDLED, CHECKING, CLOSABLE, SUSPENDED})
    | END_STATES
)
OPEN_STATES = ALL_STATES - END_STATES
BEFORE_DISPATCH = frozenset({REPORTED, VERIFYING, PENDING, REGISTERED})

# Stages (clock names everywhere: API, events, pages)
VERIFY, REGISTER, DISPATCH, HANDLE, CHECK = "verify", "register", "dispatch", "handle", "check"
STAGES = (VERIFY, REGISTER, DISPATCH, HANDLE, CHECK)

# Roles (org.models.Role values)
INSPECTOR, VOLUNTEER, OPERATOR, SHIFTLEAD = "inspector", "volunteer", "operator", "shiftlead"
DISPATCHER, DEPARTMENT, LEADER = "dispatcher", "department", "leader"
STAFF = frozenset({INSPECTOR, VOLUNTEER, OPERATOR, SHIFTLEAD, DISPATCHER, DEPARTMENT, LEADER})
CALL_TAKERS = frozenset({OPERATOR, SHIFTLEAD})
REPORTER = "reporter"  # the person who reported the case, whatever their role
# A citizen on the public portal, known by the case number and their phone or reporter code.
CITIZEN = "citizen"

# Sources that need an on-site verification before filing.
VERIFIED_SOURCES = frozenset({"public", "hotline", "media", "open311"})


@dataclass(frozen=True)
class Outcome:
    """One branch of an operation: the state it leads to and its clock effects."""

    to_state: str | None  # None: the state does not change
    stops: tuple[str, ...] = ()  # clocks ended (on-time judged)
    starts: tuple[str, ...] = ()  # clocks started
    pauses: tuple[str, ...] = ()  # clocks paused (deadline later moved by the pause)
    resumes: tuple[str, ...] = ()  # paused clocks running again
    closes_task: str | None = None  # "done" | "returned" | "cancelled"


@dataclass(frozen=True)
class Rule:
    operation: str
    from_states: frozenset[str]
    roles: frozenset[str]
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # by branch name
    label_zh: str = ""
    label_en: str = ""


def _rule(op, states, roles, zh, en, **outcomes) -> Rule:
    return Rule(op, frozenset(states), frozenset(roles), outcomes, zh, en)


TABLE: dict[str, Rule] = {
    r.operation: r
    for r in (
        _rule(
            "verify",
            {VERIFYING},
            {INSPECTOR},
            "核实",
            "verify",
            valid=Outcome(PENDING, stops=(VERIFY,), starts=(REGISTER,)),
            invalid=Outcome(INVALID, stops=(VERIFY,)),
        ),
        _rule("amend", BEFORE_DISPATCH, CALL_TAKERS, "修改", "amend", default=Outcome(None)),
        _rule(
            "register",
            {REPORTED, PENDING},
            CALL_TAKERS,
            "立案",
            "register",
            default=Outcome(REGISTERED, stops=(REGISTER,), starts=(DISPATCH,)),
        ),
        _rule(
            "reject",
            {REPORTED, PENDING},
            CALL_TAKERS,
            "不予立案",
            "reject",
            default=Outcome(REJECTED, stops=(REGISTER,)),
        ),
        _rule(
            "dispatch",
            {REGISTERED},
            {DISPATCHER, SHIFTLEAD},
            "派遣",
            "dispatch",
            default=Outcome(DISPATCHED, stops=(DISPATCH,), starts=(HANDLE,)),
        ),
        _rule("sign", {DISPATCHED}, {DEPARTMENT}, "签收", "sign", default=Outcome(HANDLING)),
        _rule("feedback", {HANDLING}, {DEPARTMENT}, "处置反馈", "feedback", default=Outcome(HANDLED, pauses=(HANDLE,))),
        _rule(
            "request_extension",
            {DISPATCHED, HANDLING},
            {DEPARTMENT},
            "申请延期",
            "request extension",
            default=Outcome(None),
        ),
        _rule(
            "decide_extension",
            {DISPATCHED, HANDLING},
            {DISPATCHER, SHIFTLEAD},
            "审批延期",
            "decide extension",
            approve=Outcome(None),
            refuse=Outcome(None),
        ),
        _rule("return", {DISPATCHED, HANDLING}, {DEPARTMENT}, "申请回退", "request return", default=Outcome(None)),
        _rule(
            "decide_return",
            {DISPATCHED, HANDLING},
            {DISPATCHER, SHIFTLEAD},
            "审批回退",
            "decide return",
            approve=Outcome(REGISTERED, stops=(HANDLE,), starts=(DISPATCH,), closes_task="returned"),
            refuse=Outcome(None),
        ),
        _rule("suspend", {DISPATCHED, HANDLING}, {DEPARTMENT}, "申请挂账", "request suspension", default=Outcome(None)),
        _rule(
            "decide_suspend",
            {DISPATCHED, HANDLING},
            {DISPATCHER, SHIFTLEAD},
            "审批挂账",
            "decide suspension",
            approve=Outcome(SUSPENDED, pauses=(HANDLE,)),
            refuse=Outcome(None),
        ),
        # resume goes back to the state the case left; the service fills it in.
        _rule(
            "resume",
            {SUSPENDED},
            {DISPATCHER, SHIFTLEAD},
            "恢复处置",
            "resume",
            default=Outcome(None, resumes=(HANDLE,)),
        ),
        _rule(
            "request_check",
            {HANDLED},
            CALL_TAKERS,
            "派发核查",
            "request check",
            default=Outcome(CHECKING, starts=(CHECK,)),
        ),
        _rule(
            "check",
            {CHECKING},
            {INSPECTOR},
            "核查",
            "check",
            fixed=Outcome(CLOSABLE, stops=(CHECK, HANDLE), closes_task="done"),
            rework=Outcome(DISPATCHED, stops=(CHECK,), resumes=(HANDLE,)),
        ),
        # A self-handled report is closed straight from `reported` (see decide()).
        _rule(
            "close",
            {CLOSABLE, REPORTED},
            CALL_TAKERS,
            "结案",
            "close",
            default=Outcome(CLOSED),
            self_handled=Outcome(CLOSED, stops=(REGISTER,)),
        ),
        _rule("reopen", {CLOSED}, CALL_TAKERS, "重新办理", "reopen", default=Outcome(PENDING, starts=(REGISTER,))),
        # The reporter says a closed case is not fixed: it goes back to the call-taker for a new
        # filing decision, as a reopen would (the service limits it to some days after closure).
        _rule(
            "dispute",
            {CLOSED},
            {CITIZEN},
            "市民反映未解决",
            "not fixed (reporter)",
            default=Outcome(PENDING, starts=(REGISTER,)),
        ),
        _rule("follow_up", ALL_STATES, STAFF | {REPORTER, CITIZEN}, "补充说明", "follow up", default=Outcome(None)),
        _rule("supervise", OPEN_STATES, {LEADER}, "督办", "supervise", default=Outcome(None)),
        _rule(
            "cancel",
            OPEN_STATES,
            {SHIFTLEAD},
            "作废",
            "cancel",
            default=Outcome(CANCELLED, stops=STAGES, closes_task="cancelled"),
        ),
        _rule(
            "merge",
            OPEN_STATES,
            CALL_TAKERS,
            "合并",
            "merge",
            default=Outcome(CANCELLED, stops=STAGES, closes_task="cancelled"),
        ),
    )
}

OPERATIONS = tuple(TABLE)

STATE_LABELS = {
    REPORTED: ("已上报", "reported"),
    VERIFYING: ("待核实", "verifying"),
    PENDING: ("待立案", "pending"),
    REGISTERED: ("待派遣", "registered"),
    DISPATCHED: ("待签收", "dispatched"),
    HANDLING: ("处置中", "handling"),
    HANDLED: ("待核查", "handled"),
    CHECKING: ("核查中", "checking"),
    CLOSABLE: ("待结案", "closable"),
    CLOSED: ("已结案", "closed"),
    SUSPENDED: ("挂账", "suspended"),
    INVALID: ("无效", "invalid"),
    REJECTED: ("不予立案", "rejected"),
    CANCELLED: ("作废", "cancelled"),
}


# Report channels (Case.source), as pages name them.
SOURCE_LABELS = {
    "inspector": ("监督员", "Inspector"), "volunteer": ("志愿者", "Volunteer"), "hotline": ("热线", "Hotline"),
    "public": ("公众网站", "Public website"), "open311": ("Open311", "Open311"), "leader": ("领导交办", "Leader"),
    "media": ("媒体", "Media"),
}


@dataclass(frozen=True)
class Decision:
    operation: str
    from_state: str
    to_state: str
    branch: str
    outcome: Outcome


def initial_state(source: str) -> tuple[str, str]:
    """State and first clock of a new report from `source`."""
    if source in VERIFIED_SOURCES:
        return VERIFYING, VERIFY
    return REPORTED, REGISTER


def branch_for(operation: str, fields: dict) -> str:
    """Which outcome of the operation the fields ask for."""
    rule = TABLE[operation]
    if operation == "verify":
        return "valid" if _required_bool(fields, "valid") else "invalid"
    if operation == "check":
        return "fixed" if _required_bool(fields, "fixed") else "rework"
    if operation.startswith("decide_"):
        return "approve" if _required_bool(fields, "approve") else "refuse"
    if "default" in rule.outcomes:
        return "default"
    raise AssertionError(operation)  # pragma: no cover - every rule has a branch


def _required_bool(fields: dict, name: str) -> bool:
    value = fields.get(name)
    if not isinstance(value, bool):
        raise Invalid(
            f"缺少必填字段：{name}（true 或 false）", f"Field '{name}' is required (true or false)", field=name
        )
    return value


def decide(
    operation: str,
    state: str,
    roles: frozenset[str] | set[str],
    fields: dict | None = None,
    *,
    self_handled: bool = False,
    state_before_suspension: str = "",
    shiftlead_registers: bool = False,
) -> Decision:
    """Say whether `roles` may apply `operation` to a case in `state`, and what follows.

    Raises NotFound (no such operation), Forbidden (role may not), Conflict (state does not
    allow), Invalid (a required field is missing).
    """
    rule = TABLE.get(operation)
    if rule is None:
        raise NotFound(f"没有名为 {operation} 的操作", f"No operation named '{operation}'", field="operation")
    allowed_roles = rule.roles
    if shiftlead_registers and operation in {"register", "close"}:
        allowed_roles = frozenset({SHIFTLEAD})
    if not (allowed_roles & set(roles)):
        raise Forbidden(
            f"当前角色无权执行「{rule.label_zh}」", f"Your role may not {rule.label_en} this case", field="operation"
        )
    if state not in rule.from_states:
        zh, en = STATE_LABELS.get(state, (state, state))
        raise Conflict(
            f"案件处于「{zh}」状态，不能执行「{rule.label_zh}」",
            f"A case that is {en} cannot be given '{rule.label_en}'",
            field="state",
            code="state_conflict",
        )
    fields = fields or {}
    if operation == "close" and state == REPORTED:
        if not self_handled:
            raise Conflict(
                "只有自处理案件可从「已上报」直接结案",
                "Only a self-handled report can be closed straight away",
                field="state",
                code="state_conflict",
            )
        branch = "self_handled"
    else:
        branch = branch_for(operation, fields)
    outcome = rule.outcomes[branch]
    to_state = outcome.to_state
    if operation == "resume":
        to_state = state_before_suspension or HANDLING
    return Decision(operation, state, to_state or state, branch, outcome)

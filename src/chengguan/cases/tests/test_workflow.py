"""The workflow table, without a database."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.cases import workflow as wf
from chengguan.errors import Conflict, Forbidden, Invalid, NotFound

# (operation, state, role, fields, expected state) — one row per branch of DOMAIN.md's table.
ROWS = [
    ("verify", "verifying", "inspector", {"valid": True}, "pending"),
    ("verify", "verifying", "inspector", {"valid": False}, "invalid"),
    ("amend", "registered", "operator", {}, "registered"),
    ("register", "reported", "operator", {}, "registered"),
    ("register", "pending", "shiftlead", {}, "registered"),
    ("reject", "pending", "operator", {}, "rejected"),
    ("dispatch", "registered", "dispatcher", {}, "dispatched"),
    ("sign", "dispatched", "department", {}, "handling"),
    ("feedback", "handling", "department", {}, "handled"),
    ("request_extension", "handling", "department", {}, "handling"),
    ("decide_extension", "handling", "dispatcher", {"approve": True}, "handling"),
    ("return", "dispatched", "department", {}, "dispatched"),
    ("decide_return", "handling", "dispatcher", {"approve": True}, "registered"),
    ("decide_return", "handling", "dispatcher", {"approve": False}, "handling"),
    ("suspend", "handling", "department", {}, "handling"),
    ("decide_suspend", "handling", "dispatcher", {"approve": True}, "suspended"),
    ("request_check", "handled", "operator", {}, "checking"),
    ("check", "checking", "inspector", {"fixed": True}, "closable"),
    ("check", "checking", "inspector", {"fixed": False}, "dispatched"),
    ("close", "closable", "operator", {}, "closed"),
    ("reopen", "closed", "operator", {}, "pending"),
    ("dispute", "closed", "citizen", {}, "pending"),
    ("follow_up", "closed", "reporter", {}, "closed"),
    ("follow_up", "handling", "citizen", {}, "handling"),
    ("supervise", "handling", "leader", {}, "handling"),
    ("cancel", "handling", "shiftlead", {}, "cancelled"),
    ("merge", "registered", "operator", {}, "cancelled"),
]


@pytest.mark.parametrize(("operation", "state", "role", "fields", "expected"), ROWS)
def test_it_moves_each_operation_as_the_table_says(operation, state, role, fields, expected):
    assert wf.decide(operation, state, {role}, fields).to_state == expected


def test_it_covers_every_operation_in_the_rows():
    assert {row[0] for row in ROWS} | {"resume"} == set(wf.OPERATIONS)


def test_it_resumes_to_the_state_the_case_left():
    assert wf.decide("resume", "suspended", {"dispatcher"}, state_before_suspension="dispatched").to_state == (
        "dispatched"
    )


def test_it_refuses_a_role_that_may_not():
    with pytest.raises(Forbidden):
        wf.decide("dispatch", "registered", {"operator"})


def test_it_refuses_a_state_that_does_not_allow():
    with pytest.raises(Conflict):
        wf.decide("dispatch", "closed", {"dispatcher"})


def test_it_names_the_missing_branch_field():
    with pytest.raises(Invalid) as err:
        wf.decide("check", "checking", {"inspector"}, {})
    assert err.value.field == "fixed"


def test_it_knows_no_unknown_operation():
    with pytest.raises(NotFound):
        wf.decide("teleport", "reported", {"operator"})


def test_it_closes_a_self_handled_report_straight_away_and_nothing_else():
    assert wf.decide("close", "reported", {"operator"}, self_handled=True).to_state == "closed"
    with pytest.raises(Conflict):
        wf.decide("close", "reported", {"operator"}, self_handled=False)


def test_it_lets_only_the_shift_leader_register_when_the_city_says_so():
    with pytest.raises(Forbidden):
        wf.decide("register", "pending", {"operator"}, shiftlead_registers=True)
    assert wf.decide("register", "pending", {"shiftlead"}, shiftlead_registers=True).to_state == "registered"


def test_it_starts_public_reports_with_verification():
    assert wf.initial_state("public") == ("verifying", "verify")
    assert wf.initial_state("inspector") == ("reported", "register")


BRANCH_FIELDS = {"valid": True, "fixed": True, "approve": True}


@settings(max_examples=300)
@given(
    st.lists(st.tuples(st.sampled_from(wf.OPERATIONS), st.sampled_from(sorted(wf.STAFF | {wf.REPORTER, wf.CITIZEN})),
                       st.booleans()), max_size=30),
    st.sampled_from(["inspector", "public"]),
)
def test_it_never_leaves_the_known_states(steps, source):
    state, _ = wf.initial_state(source)
    before_suspension = ""
    for operation, role, flag in steps:
        fields = {"valid": flag, "fixed": flag, "approve": flag}
        try:
            decision = wf.decide(operation, state, {role}, fields, state_before_suspension=before_suspension)
        except (Forbidden, Conflict):
            continue
        assert role in wf.TABLE[operation].roles
        assert state in wf.TABLE[operation].from_states
        if decision.to_state == "suspended":
            before_suspension = state
        state = decision.to_state
        assert state in wf.ALL_STATES
        # end states are final except a closed case that a reporter says is not fixed
        if state in wf.END_STATES - {"closed"}:
            for op in wf.OPERATIONS:
                if op in {"follow_up"}:
                    continue
                assert state not in wf.TABLE[op].from_states


def test_it_lets_only_a_citizen_say_a_closed_case_is_not_fixed():
    for role in sorted(wf.STAFF | {wf.REPORTER}):
        with pytest.raises(Forbidden):
            wf.decide("dispute", "closed", {role})
    with pytest.raises(Conflict):
        wf.decide("dispute", "handling", {"citizen"})
    decision = wf.decide("dispute", "closed", {"citizen"})
    assert decision.outcome.starts == ("register",)


def test_it_gives_a_citizen_nothing_but_follow_up_and_dispute():
    assert {op for op, rule in wf.TABLE.items() if wf.CITIZEN in rule.roles} == {"follow_up", "dispute"}


def test_it_ends_a_stage_clock_only_after_starting_one():
    started = {stage for rule in wf.TABLE.values() for o in rule.outcomes.values() for stage in o.starts}
    started |= {"verify", "register"}  # started by report
    stopped = {stage for rule in wf.TABLE.values() for o in rule.outcomes.values() for stage in o.stops}
    assert stopped <= started

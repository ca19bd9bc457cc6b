"""The whole loop through the pages alone, each role signed in as itself: an inspector reports on
城管通, the call-taker registers, the dispatcher sends it to the suggested department, the department
signs and reports back with a photo in its inbox, the inspector checks it on the phone, the
call-taker closes it, and the public sees it closed with before and after photos."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.browser.test_mobile import api, as_file, field_page, fill_report, photo, token_for, wait_sent


def test_it_walks_a_case_round_the_loop_through_every_room(new_page, server):
    # 城管通: the inspector reports with a photo, his phone's position and a class found by pinyin.
    phone = field_page(new_page)
    description = f"井盖破损，车辆经过有异响 {uuid.uuid4().hex[:6]}"
    fill_report(phone, search="ssjg", description=description)  # 上水井盖
    phone.click("#m-dup-go" if phone.locator("#m-dup").is_visible() else "#m-submit")
    number = wait_sent(phone, description)
    token = token_for(server, "operator")

    # Command center: the call-taker registers it from the case page.
    operator = new_page("operator")
    operator.goto(f"/center/cases/{number}/")
    operator.click("#cc-actions button[data-op=register]")
    expect(operator.locator(".cc-case-head .state")).to_have_text("待派遣")

    # The dispatcher sends it with one click to the suggested department.
    dispatcher = new_page("dispatcher")
    dispatcher.goto(f"/center/cases/{number}/")
    dispatcher.click("#cc-dispatch-suggested")
    expect(dispatcher.locator(".cc-case-head .state")).to_have_text("待签收")
    department = api(server, "GET", f"/api/v1/cases/{number}", token=token)[1]["department"]

    # The department signs in its inbox and reports back with an after photo.
    inbox = new_page(f"dept-{department}")
    inbox.goto("/inbox/")
    expect(inbox.locator(f'tr[data-case="{number}"]')).to_have_count(1)
    inbox.goto(f"/inbox/cases/{number}/")
    inbox.click("form.act-sign button[type=submit]")
    inbox.locator(".messages .success", has_text=f"已签收：{number}").wait_for()
    form = inbox.locator("form.act-feedback")
    form.locator("textarea[name=result]").fill("已更换井盖，路面恢复")
    form.locator("input[type=file][name=photos]").set_input_files(
        files=[as_file(photo(800, 600, (40, 130, 70)), "after.jpg")])
    form.locator(".previews li.preview img").wait_for()
    form.locator("button[type=submit]").click()
    inbox.locator(".messages .success", has_text=f"已处置反馈：{number}").wait_for()

    # 城管通 again: the check task reaches the grid's inspector, who passes it with a photo.
    case = api(server, "GET", f"/api/v1/cases/{number}", token=token)[1]
    assert case["state"] == "checking"
    checker = next(c["assignee"] for c in case["clocks"] if c["stage"] == "check")
    phone = field_page(new_page, checker or "inspector")
    phone.goto("/m/")
    phone.wait_for_selector(".m-order:has-text('按距离由近到远')")  # re-sorted from the phone's position
    card = phone.locator(f"#task-{number}")
    card.locator("input[type=file]").set_input_files(files=[as_file(photo(800, 600, (50, 140, 80)))])
    card.locator(".m-previews img").wait_for()
    card.locator("button[name=fixed][value=true]").click()
    expect(phone.locator(f"#task-{number}")).to_have_count(0)

    # The call-taker closes it; the timeline holds every step.
    operator.goto(f"/center/cases/{number}/")
    expect(operator.locator(".cc-case-head .state")).to_have_text("待结案")
    operator.click("#cc-actions button[data-op=close]")
    expect(operator.locator(".cc-case-head .state")).to_have_text("已结案")
    for step in ("上报", "立案", "派遣", "签收", "处置反馈", "核查", "结案"):
        expect(operator.locator(".cc-timeline")).to_contain_text(step)

    # The public page: closed, before and after photos, nobody's name.
    citizen = new_page(phone=True)
    citizen.goto(f"/public/cases/{number}/")
    page_text = citizen.locator("main").inner_text()
    assert re.search("已办结|已结案", page_text)
    assert citizen.locator("main img").count() >= 2
    for name in ("inspector", "operator", "dispatcher", f"dept-{department}"):
        assert name not in page_text

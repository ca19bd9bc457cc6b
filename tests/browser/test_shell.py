"""The shell in a real browser: sign-in, each role's way home, the language switch, phone width."""

import pytest

from tests.browser.conftest import shot, sign_in

HOMES = {"operator": "/center/", "dispatcher": "/center/", "shiftlead": "/center/", "dept-D0101": "/inbox/",
         "inspector": "/m/", "volunteer": "/m/", "leader": "/dashboard/", "admin": "/admin/"}


def test_it_shows_the_sign_in_page(new_page):
    page = new_page()
    page.goto("/login/")
    assert page.locator("h1").inner_text() == "登录数字城管"
    shot(page, "login")


@pytest.mark.parametrize(("username", "home"), list(HOMES.items()))
def test_it_takes_each_role_home(new_page, username, home):
    page = new_page()
    sign_in(page, username)
    assert page.url.endswith(home)
    # the home is a real page of that role: it answers 200, not the 403 or 404 page
    assert page.goto(home).status == 200


def test_it_refuses_a_wrong_password_in_the_users_language(new_page):
    page = new_page()
    page.goto("/login/")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "wrong-password")
    page.click("button.primary")
    assert "用户名或密码错误" in page.locator("[role=alert]").inner_text()


def test_it_switches_between_chinese_and_english(new_page):
    page = new_page()
    page.goto("/")
    page.click("form.lang button")
    assert page.locator("h1").inner_text() == "Digital urban management"
    page.click("form.lang button")
    assert page.locator("h1").inner_text() == "数字城管"


def test_it_fits_a_phone(new_page):
    page = new_page(phone=True)
    page.goto("/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(page, "home-phone")

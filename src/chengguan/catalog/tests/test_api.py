import pytest

from chengguan.org.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(place):
    return User.objects.create_user("op", password="a-long-test-password-1", role="operator", city=place.city)


@pytest.fixture
def client_in(client, operator):
    client.force_login(operator)
    return client


def test_it_needs_a_signed_in_user(client, catalog):
    response = client.get("/api/v1/catalog/classes")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_it_returns_the_class_tree(client_in, catalog):
    response = client_in.get("/api/v1/catalog/classes")
    assert response.status_code == 200
    tree = response.json()
    assert len(tree) == 11
    first = tree[0]
    assert (first["code"], first["kind"], first["name"], first["parent"]) == ("01", "event", "市容环境", None)
    garbage = next(c for c in first["children"] if c["code"] == "E0102")
    assert garbage["name"] == "暴露垃圾"
    assert garbage["name_en"] == "exposed garbage"
    assert garbage["parent"] == "01"
    assert garbage["kind"] == "event"
    assert garbage["pinyin"] == "bllj"
    general = next(t for t in garbage["time_limits"] if t["urgency"] == "normal" and not t["filing_condition"])
    assert (general["minutes"], general["working_time"], general["text"]) == (450, True, "1 个工作日")
    assert sum(len(n["children"]) for n in tree) == 140


def test_it_filters_by_kind(client_in, catalog):
    tree = client_in.get("/api/v1/catalog/classes?kind=component").json()
    assert [n["code"] for n in tree] == ["01", "02", "03", "04", "05", "06"]
    assert all(c["code"].startswith("C") for n in tree for c in n["children"])


def test_it_searches(client_in, catalog):
    tree = client_in.get("/api/v1/catalog/classes", {"q": "blj"}).json()
    assert next(c["code"] for n in tree for c in n["children"]) == "E0102"
    assert client_in.get("/api/v1/catalog/classes", {"q": "没有这种问题"}).json() == []


def test_an_unknown_kind_is_a_422_naming_the_field(client_in, catalog):
    response = client_in.get("/api/v1/catalog/classes?kind=animal")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "kind"
    assert "event" in response.json()["error"]["message"]
    english = client_in.get("/api/v1/catalog/classes?kind=animal", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["error"]["message"] == "Kind must be 'event' or 'component'"


def test_it_answers_in_a_few_queries(client_in, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client_in.get("/api/v1/catalog/classes").status_code == 200


def test_it_lists_the_departments_of_the_users_city(client_in, place):
    rows = client_in.get("/api/v1/catalog/departments").json()
    assert {"code": "D0101", "name": "环卫处", "name_en": "Sanitation", "parent": "D01"} in rows
    assert [r["code"] for r in rows] == ["D01", "D0101", "D06", "J001"]

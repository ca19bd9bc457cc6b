import pytest
from django.urls import reverse

from chengguan.catalog.models import Responsibility, SmallClass, TimeLimit

pytestmark = pytest.mark.django_db

MODELS = ["majorclass", "smallclass", "timelimit", "stagelimit", "responsibility"]


@pytest.fixture
def admin_client_in(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_the_changelist_and_add_pages_load(admin_client_in, catalog, place, model):
    Responsibility.objects.create(small_class=None, region=place.district, department=place.bureau)
    for view in ("changelist", "add"):
        response = admin_client_in.get(reverse(f"admin:catalog_{model}_{view}"))
        assert response.status_code == 200, (model, view)


def test_a_small_class_shows_its_time_limits_inline(admin_client_in, catalog):
    small = SmallClass.objects.get(code="E0101")
    response = admin_client_in.get(reverse("admin:catalog_smallclass_change", args=[small.pk]))
    assert response.status_code == 200
    assert "未取得规划许可擅自建设（拆除）" in response.content.decode()


def test_the_lists_search_by_code_name_and_pinyin(admin_client_in, catalog):
    url = reverse("admin:catalog_smallclass_changelist")
    assert "暴露垃圾" in admin_client_in.get(url, {"q": "bllj"}).content.decode()
    url = reverse("admin:catalog_timelimit_changelist")
    page = admin_client_in.get(url, {"q": "E0101", "urgency__exact": "normal"}).content.decode()
    assert "15 个工作日" in page
    assert TimeLimit.objects.filter(small_class__code="E0101").exists()

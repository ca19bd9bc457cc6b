"""The whole Baltimore export: per agency, what the CSV says equals what the tasks say."""

import csv
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chengguan.cases.models import Case, Task
from chengguan.imports.models import AgencyMapping
from chengguan.imports.services import import_311

pytestmark = pytest.mark.django_db

BALTIMORE = Path(__file__).resolve().parents[5] / "shared" / "data" / "baltimore-311-city-r-training" / "311_sample.csv"
ZONE = ZoneInfo("America/New_York")


def local(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=ZONE)


def expected_from_csv() -> tuple[Counter, Counter, int]:
    """Per agency: rows with a due date that are not marked duplicate, and of those the ones
    closed by their due date; read with the csv module alone. Rows without a real location
    (empty, or the placeholder 39, -77) are the ones the import skips."""
    with_due, on_time, located = Counter(), Counter(), 0
    with BALTIMORE.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["Latitude"] or (float(row["Latitude"]), float(row["Longitude"])) == (39.0, -77.0):
                continue
            located += 1
            if not row["DueDate"] or "Duplicate" in row["SRStatus"]:
                continue
            if local(row["DueDate"]) < local(row["CreatedDate"]):
                continue
            with_due[row["Agency"]] += 1
            if row["SRStatus"].startswith("Closed") and row["CloseDate"]:
                on_time[row["Agency"]] += local(row["CloseDate"]) <= local(row["DueDate"])
    return with_due, on_time, located


def test_it_imports_baltimore_with_the_agencies_counts_of_the_csv():
    # Facts for evaluation are refreshed by the evaluation module's own tests; this one checks
    # what the import writes, on all 10,000 rows.
    result = import_311(BALTIMORE, refresh=False)
    with_due, on_time, located = expected_from_csv()
    assert result.imported == located == Case.objects.filter(city__code="us-baltimore").count()
    assert result.skipped == {"placeholder_location": 885, "no_location": 590}
    agency_of = dict(AgencyMapping.objects.filter(city__code="us-baltimore").values_list("department_id", "value"))
    tasks = Task.objects.filter(case__city__code="us-baltimore", case__imported__due_source="export").exclude(
        status=Task.Status.CANCELLED
    )
    counted = Counter(agency_of[d] for d in tasks.values_list("department_id", flat=True))
    in_time = Counter(agency_of[d] for d in tasks.filter(on_time=True).values_list("department_id", flat=True))
    assert counted == with_due
    assert in_time == +on_time
    assert sum(counted.values()) == 8116


def test_the_evaluation_of_baltimore_agrees_with_the_csv():
    """After the import, each agency's on-time handling rate in the evaluation equals the CSV's:
    rows with a due date and not closed as duplicates; on time when closed by the due date."""
    from chengguan.evaluation.services import evaluate
    from chengguan.geo.models import City

    import_311(BALTIMORE)  # with the evaluation facts, as the command does
    city = City.objects.get(code="us-baltimore")
    with_due, on_time, _ = expected_from_csv()
    department_of = dict(AgencyMapping.objects.filter(city=city).values_list("value", "department__code"))
    due, done_on_time = Counter(), Counter()
    for year in range(2014, 2020):  # the export's dispatch dates; a period may span three years at most
        for row in evaluate("departments", str(year), city=city)["rows"]:
            due[row["code"]] += row["due"]
            done_on_time[row["code"]] += row["done_on_time"]
    assert sum(due.values()) == sum(with_due.values()) == 8116
    for agency, expected in with_due.items():
        code = department_of[agency]
        assert due[code] == expected, agency
        assert done_on_time[code] == on_time[agency], agency
        assert done_on_time[code] / due[code] == on_time[agency] / expected

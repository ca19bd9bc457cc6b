"""Importing the shared 311 exports into the loop's tables (real database, no mocks)."""

import csv
from collections import Counter
from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from chengguan.cases.models import Case, Event, StageClock, Task
from chengguan.geo.models import City, Grid, Region
from chengguan.imports.models import AgencyMapping, ChannelMapping, ImportedRecord, ImportRun, TypeMapping
from chengguan.imports.reading import read_export
from chengguan.imports.services import import_311
from chengguan.org.models import Department

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[5] / "shared" / "data"
BALTIMORE = DATA / "baltimore-311-city-r-training" / "311_sample.csv"
NYC_INFO654 = DATA / "nyc-311-info654-2018" / "311_sample.csv"
EXPORTS = sorted(DATA.glob("*311*/*.csv"))
NEW_YORK = ZoneInfo("America/New_York")


def slice_of(path: Path, folder: Path, rows: int = 150) -> Path:
    """Every n-th row of the export (header, BOM and layout kept), so that a test stays fast."""
    with path.open("rb") as fh:
        bom = fh.read(3) == b"\xef\xbb\xbf"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        body = list(reader)
    step = max(1, len(body) // rows)
    out = folder / f"{path.parent.name}-{path.name}"
    with out.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(body[::step][:rows])
    return out


@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_it_imports_a_slice_of_every_shared_export(path, tmp_path):
    part = slice_of(path, tmp_path)
    expected = read_export(part).rows
    result = import_311(part)
    kept = expected.filter(pl.col("skip").is_null()).height
    assert result.imported == kept > 0
    assert result.imported + result.skipped_total == result.rows == expected.height
    city = City.objects.get(code=result.city_code)
    cases = Case.objects.filter(city=city)
    assert cases.count() == kept
    assert not cases.filter(grid__isnull=True).exists()
    assert Task.objects.filter(case__city=city).count() == kept
    # Only a case still open has a running clock.
    still_open = cases.filter(is_open=True).count()
    assert still_open == cases.exclude(state__in=["closed", "cancelled"]).count()
    clocks = StageClock.objects.filter(case__city=city)
    assert clocks.count() == clocks.filter(stage="handle", ended_at__isnull=True).count() == still_open
    assert ImportedRecord.objects.filter(city=city).count() == kept
    # Each case: register (the export's created time) and dispatch, then its ending event if it ended.
    ops = Counter(Event.objects.filter(case__city=city).values_list("operation", flat=True))
    assert ops["register"] == ops["dispatch"] == kept
    closed = cases.filter(state="closed").count()
    assert ops["close"] == closed == result.closed
    assert ops["merge"] + ops["cancel"] == cases.filter(state="cancelled").count()
    assert sum(ops.values()) == 2 * kept + kept - still_open
    assert not ops.keys() - {"register", "dispatch", "close", "merge", "cancel"}
    assert ImportRun.objects.filter(city=city).count() == 1


def _written(city: City) -> dict:
    """Every row an import wrote for a city, keyed by case number (ids aside)."""
    out = {}
    for case in Case.objects.filter(city=city).select_related("department", "grid"):
        out[case.number] = {
            "case": (case.state, case.source, case.class_code, case.grid.code, case.department.code, case.is_open,
                     case.reported_at, case.closed_at, case.stage, case.stage_due_at, case.stage_yellow_at,
                     case.end_reason, case.address, case.description, case.calendar_warning),
            "tasks": list(case.tasks.values_list("seq", "status", "dispatched_at", "limit_minutes", "working_time",
                                                 "due_at", "signed_at", "handled_at", "on_time", "counted")),
            "events": list(case.events.order_by("at", "id").values_list(
                "operation", "from_state", "to_state", "at", "note", "data", "due_at", "was_late")),
            "clocks": list(case.clocks.values_list("stage", "started_at", "limit_minutes", "working_time", "due_at",
                                                  "yellow_at", "ended_at")),
            "record": (case.imported.source_id, case.imported.due_source, case.imported.raw),
        }
    return out


def test_small_chunks_write_the_same_rows_as_one(tmp_path):
    """Cases are sorted by kind, written in chunks, and each chunk's rows grouped by their empty
    columns: chunks of 7 must write what one chunk writes, every case's events in order."""
    from django.db import transaction

    from chengguan.geo.services import clear_locators

    part = slice_of(BALTIMORE, tmp_path)
    with transaction.atomic():
        city = City.objects.get(code=import_311(part, chunk_size=7).city_code)
        small = _written(city)
        transaction.set_rollback(True)
    clear_locators()
    one = _written(City.objects.get(code=import_311(part, chunk_size=100_000).city_code))
    assert len(one) > 100 and small == one
    kinds = Counter(row["case"][0] for row in one.values())
    assert len(kinds) >= 2  # closed and open (and cancelled) cases side by side
    for row in one.values():
        operations = [event[0] for event in row["events"]]
        assert operations[:2] == ["register", "dispatch"] and len(operations) <= 3


def test_a_file_name_with_quotes_and_percent_signs_is_stored_as_it_is(tmp_path):
    """The file name is one value for every raw record: written into the statement as a literal."""
    part = slice_of(BALTIMORE, tmp_path, rows=20)
    odd = part.rename(tmp_path / "o'brien 100%s %% 城管.csv")
    city = City.objects.get(code=import_311(odd).city_code)
    names = set(ImportedRecord.objects.filter(city=city).values_list("file_name", flat=True))
    assert names == {"o'brien 100%s %% 城管.csv"}


def test_it_imports_nothing_twice(tmp_path):
    part = slice_of(BALTIMORE, tmp_path)
    first = import_311(part)
    counts = (Case.objects.count(), Task.objects.count(), Event.objects.count(), Grid.objects.count(),
              Department.objects.count(), TypeMapping.objects.count())
    second = import_311(part)
    assert second.imported == 0
    assert second.already == first.imported
    assert second.skipped == first.skipped
    assert (Case.objects.count(), Task.objects.count(), Event.objects.count(), Grid.objects.count(),
            Department.objects.count(), TypeMapping.objects.count()) == counts
    assert "此前已导入" in second.summary()


def test_it_builds_the_city_in_its_own_zone_beside_the_others(tmp_path):
    import_311(slice_of(BALTIMORE, tmp_path))
    import_311(slice_of(NYC_INFO654, tmp_path))
    baltimore = City.objects.get(code="us-baltimore")
    assert baltimore.timezone == "America/New_York"
    assert baltimore.calendar.timezone == "America/New_York"
    assert baltimore.calendar.working_hours == [["09:00", "17:00"]]
    assert City.objects.get(code="us-new-york").grids.exists()
    districts = set(Region.objects.filter(city=baltimore, level="district").values_list("code", flat=True))
    assert {"bal-cd1", "bal-cd14"} <= districts
    grid = Grid.objects.filter(city=baltimore).first()
    assert grid.code.startswith(grid.community.code) and len(grid.code) == len(grid.community.code) + 3
    assert 0.9e6 < grid.area_m2 < 1.1e6  # square cells of a kilometre
    # Every case lies in its grid.
    for case in Case.objects.filter(city=baltimore).select_related("grid")[:100]:
        assert case.grid.min_lon <= case.lon <= case.grid.max_lon
        assert case.grid.min_lat <= case.lat <= case.grid.max_lat
        assert case.district_code == case.grid.district_code


def test_it_uses_the_exports_due_dates_as_deadlines(tmp_path):
    part = slice_of(BALTIMORE, tmp_path)
    result = import_311(part)
    with part.open(encoding="utf-8", newline="") as fh:
        rows = {r["ServiceRequestNum"]: r for r in csv.DictReader(fh)}
    records = ImportedRecord.objects.select_related("case").filter(city__code="us-baltimore")
    checked = 0
    for record in records:
        row = rows[record.source_id]
        task = record.case.tasks.get()
        dispatch = record.case.events.get(operation="dispatch")
        assert dispatch.due_at == task.due_at
        assert record.raw == row
        if row["DueDate"]:
            due = datetime.strptime(row["DueDate"], "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=NEW_YORK)
            assert task.due_at == due
            assert record.due_source == "export"
            checked += 1
        else:
            assert record.due_source == "computed"
            assert task.due_at > task.dispatched_at
        if record.case.state == "closed":
            assert task.on_time == (record.case.closed_at <= task.due_at)
            assert task.handled_at == task.feedback_at == record.case.closed_at
    assert checked > 100
    assert result.due_computed == records.filter(due_source="computed").count()


def test_it_seeds_editable_mappings_and_follows_them(tmp_path):
    part = slice_of(BALTIMORE, tmp_path, rows=120)
    import_311(part)
    city = City.objects.get(code="us-baltimore")
    agencies = AgencyMapping.objects.filter(city=city).select_related("department")
    assert agencies.exists()
    for mapping in agencies:
        assert mapping.department.parent.code == "bal-311"
        assert mapping.department.city == city
    assert ChannelMapping.objects.get(city=city, value="Phone").source == "hotline"
    dirty = TypeMapping.objects.get(city=city, value="SW-Dirty Alley")
    assert dirty.small_class.code == "E0104"
    # An administrator points the type elsewhere; the next import follows the row.
    other = TypeMapping.objects.exclude(pk=dirty.pk).exclude(small_class=dirty.small_class).first().small_class
    dirty.small_class = other
    dirty.save()
    first = set(ImportedRecord.objects.values_list("source_id", flat=True))
    folder = tmp_path / "more"
    folder.mkdir()
    import_311(slice_of(BALTIMORE, folder, rows=600))
    later = Case.objects.filter(city=city, description="SW-Dirty Alley").exclude(imported__source_id__in=first)
    assert later.exists()
    assert {c.small_class_id for c in later} == {other.pk}


def test_it_writes_duplicates_as_merged_like_cancelled_cases(tmp_path):
    path = tmp_path / "dup.csv"
    header = ("ServiceRequestNum,SRType,MethodReceived,CreatedDate,SRStatus,StatusDate,DueDate,CloseDate,Agency,"
              "CouncilDistrict,Latitude,Longitude")
    path.write_text("\n".join([
        header,
        "D1,SW-Dirty Alley,API,03/11/2019 09:00:00 AM,Closed (Duplicate),,03/12/2019 09:00:00 AM,"
        "03/11/2019 10:00:00 AM,Solid Waste,9,39.30,-76.62",
        "D2,SW-Dirty Alley,API,03/11/2019 09:00:00 AM,Open,,03/12/2019 09:00:00 AM,,Solid Waste,9,39.30,-76.62",
        "D3,SW-Dirty Alley,Internal,03/11/2019 09:00:00 AM,Closed,,03/12/2019 09:00:00 AM,"
        "03/13/2019 09:00:00 AM,Solid Waste,9,39.30,-76.62",
    ]) + "\n", encoding="utf-8")
    import_311(path)
    dup = Case.objects.get(number="BAL-D1")
    assert dup.state == "cancelled" and dup.is_open is None and dup.closed_at is None
    assert dup.tasks.get().status == "cancelled"
    assert dup.events.filter(operation="merge", data__duplicate=True).exists()
    assert dup.source == "open311"
    open_case = Case.objects.get(number="BAL-D2")
    assert open_case.state == "dispatched" and open_case.is_open
    assert open_case.stage == "handle" and open_case.stage_due_at == open_case.tasks.get().due_at
    assert list(open_case.events.values_list("operation", "from_state", "to_state")) == [
        ("register", "", "registered"), ("dispatch", "registered", "dispatched")]
    register = open_case.events.get(operation="register")
    assert register.data == {"source": "open311", "imported": True, "source_id": "D2", "status": "Open"}
    assert open_case.clocks.get().ended_at is None
    late = Case.objects.get(number="BAL-D3")
    assert late.state == "closed" and late.source == "inspector"
    task = late.tasks.get()
    assert task.status == "done" and task.on_time is False
    assert task.handled_at == task.feedback_at == late.closed_at
    assert list(late.events.values_list("operation", flat=True)) == ["register", "dispatch", "close"]
    close = late.events.get(operation="close")
    assert (close.from_state, close.to_state, close.at) == ("dispatched", "closed", late.closed_at)
    assert close.data == {"on_time": False} and close.was_late is True
    assert close.note == "导出状态 export status: Closed"
    assert not late.clocks.exists()  # an ended case has no running clock
    merge = dup.events.get(operation="merge")
    assert (merge.from_state, merge.to_state, merge.note) == (
        "dispatched", "cancelled", "导出状态 export status: Closed (Duplicate)")


def test_the_command_prints_a_summary_and_writes_the_report(tmp_path):
    part = slice_of(BALTIMORE, tmp_path, rows=300)
    report = tmp_path / "skipped.csv"
    out = StringIO()
    call_command("import_311", str(part), "--layout", "baltimore", "--report", str(report), "--no-progress",
                 stdout=out)
    text = out.getvalue()
    assert "新导入" in text and "imported" in text
    assert "placeholder_location" in text
    with report.open(encoding="utf-8-sig", newline="") as fh:
        skipped = list(csv.DictReader(fh))
    assert skipped and {r["reason"] for r in skipped} <= {"placeholder_location", "no_location"}
    placeholders = Counter(r["reason"] for r in skipped)["placeholder_location"]
    assert f"{placeholders:>7,}  placeholder_location" in text
    with pytest.raises(CommandError):
        call_command("import_311", str(part), "--layout", "nyc", "--no-progress", stdout=StringIO())

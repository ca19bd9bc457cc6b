"""Reading the shared 311 exports: layouts, BOM, two-digit years, State Plane, zones, skips.

No database: `read_export` is plain column work on the file."""

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from chengguan.imports.classify import classify_channel, classify_type
from chengguan.imports.layouts import CLOSED, DUPLICATE, HANDLING, status_kind
from chengguan.imports.reading import ExportError, read_export

DATA = Path(__file__).resolve().parents[5] / "shared" / "data"
BALTIMORE = DATA / "baltimore-311-city-r-training" / "311_sample.csv"
LA_2018_12 = DATA / "la-311-hackforla" / "2018_mini_2018-12.csv"
NYC_INFO654 = DATA / "nyc-311-info654-2018" / "311_sample.csv"
EXPORTS = sorted(DATA.glob("*311*/*.csv"))


def skips(export) -> dict[str, int]:
    return dict(export.rows.group_by("skip").len().drop_nulls("skip").iter_rows())


@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_it_reads_every_shared_export(path):
    export = read_export(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        total = sum(1 for _ in csv.DictReader(fh))
    assert export.total == total
    assert export.layout.name == path.parent.name.split("-")[0]
    kept = export.rows.filter(pl.col("skip").is_null())
    assert kept.height > 0.7 * total
    assert kept["created"].null_count() == 0
    assert kept.filter(pl.col("kind") == CLOSED)["closed"].null_count() == 0


def test_it_strips_the_bom_and_reads_two_digit_years():
    export = read_export(NYC_INFO654)
    assert export.bom
    first = export.rows.row(0, named=True)
    assert first["source_id"] == "40611598"  # the first column's name carried the BOM
    # "10/21/18 0:00" in New York (EDT, UTC−4) is 04:00 UTC on 21 October 2018.
    assert first["created"] == datetime(2018, 10, 21, 4, 0, tzinfo=UTC)
    assert first["due"] == datetime(2018, 10, 21, 12, 0, tzinfo=UTC)
    assert export.rows["note_two_digit_year"].sum() == export.total


def test_it_converts_state_plane_coordinates_with_pyproj():
    export = read_export(NYC_INFO654)
    rows = export.rows.filter(pl.col("note_state_plane"))
    assert rows.height > 6000
    # The export's own latitude and longitude, derived from the same X/Y, agree within a metre.
    with NYC_INFO654.open(encoding="utf-8-sig", newline="") as fh:
        theirs = {r["Unique Key"]: (float(r["Longitude"]), float(r["Latitude"])) for r in csv.DictReader(fh)
                  if r["Latitude"]}
    ours = np.array([(lon, lat) for sid, lon, lat in rows.select("source_id", "lon", "lat").iter_rows()])
    expected = np.array([theirs[sid] for sid in rows["source_id"]])
    assert np.abs(ours - expected).max() < 1e-5


def test_it_names_placeholder_and_missing_coordinates():
    export = read_export(BALTIMORE)
    assert skips(export) == {"placeholder_location": 885, "no_location": 590}
    sample = export.rows.filter(pl.col("skip") == "placeholder_location").row(0, named=True)
    assert sample["skip_detail"] == "39.0, -77.0"


def test_it_takes_a_date_only_due_as_the_end_of_that_day():
    export = read_export(LA_2018_12)
    dated = export.rows.filter(pl.col("note_due_date_only")).row(0, named=True)
    local = dated["due"].astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    kept = export.rows.filter(pl.col("skip").is_null())
    assert kept["note_due_before_created"].sum() == 569  # service dates earlier than the request: not deadlines
    assert kept.filter(pl.col("note_due_before_created"))["due"].null_count() == 569


def test_it_reports_rows_it_cannot_use(tmp_path):
    path = tmp_path / "odd.csv"
    header = "ServiceRequestNum,SRType,MethodReceived,CreatedDate,SRStatus,DueDate,CloseDate,Agency,Latitude,Longitude"
    lines = [
        header,
        "A1,SW-Dirty Alley,Phone,03/10/2019 02:30:00 AM,Closed,03/11/2019 02:30:00 AM,03/10/2019 05:00:00 AM,"
        "Solid Waste,39.3,-76.6",  # 02:30 does not exist in New York that night
        "A1,SW-Dirty Alley,Phone,03/11/2019 09:00:00 AM,Open,,,Solid Waste,39.3,-76.6",  # same id again
        "A3,SW-Dirty Alley,Phone,03/11/2019 09:00:00 AM,Closed,,,Solid Waste,39.3,-76.6",  # closed, no date
        "A4,SW-Dirty Alley,Phone,03/11/2019 09:00:00 AM,Closed,,03/10/2019 09:00:00 AM,Solid Waste,39.3,-76.6",
        "A5,SW-Dirty Alley,Phone,11/03/2019 01:30:00 AM,Weird,,,Solid Waste,39.3,-76.6",
        "A6,SW-Dirty Alley,Phone,not a date,Open,,,Solid Waste,39.3,-76.6",
        "A7,SW-Dirty Alley,Phone,11/03/2019 01:30:00 AM,Open,,,Solid Waste,45.0,-76.6",
        "A8,SW-Dirty Alley,Phone,11/03/2019 01:30:00 AM,Open (Duplicate),,,Solid Waste,39.3,-76.6",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    export = read_export(path, "baltimore")
    by_id = {r["row"]: r for r in export.rows.iter_rows(named=True)}
    assert [by_id[i]["skip"] for i in range(1, 9)] == [
        None, "duplicate_id", "closed_no_date", "closed_before_created", "unknown_status", "bad_created",
        "far_from_city", None,
    ]
    assert by_id[1]["note_dst_gap"] and by_id[1]["created"] == datetime(2019, 3, 10, 7, 30, tzinfo=UTC)
    assert by_id[8]["kind"] == DUPLICATE and by_id[8]["note_dst_ambiguous"]
    assert by_id[8]["ended"] == by_id[8]["created"] and by_id[8]["note_ended_at_created"]


def test_it_reads_a_file_that_is_not_utf8_replacing_what_it_cannot_decode(tmp_path):
    """An export saved as Latin-1 (é as one byte): read, with the replacement character."""
    path = tmp_path / "latin1.csv"
    header = "ServiceRequestNum,SRType,MethodReceived,CreatedDate,SRStatus,DueDate,CloseDate,Agency,Latitude,Longitude"
    row = "L1,SW-Dirty Alley,Phone,03/11/2019 09:00:00 AM,Open,,,Solid Waste,39.3,-76.6"
    path.write_bytes((header + "\n" + row + " caf\xe9\n").encode("latin-1"))
    export = read_export(path, "baltimore")
    assert export.rows["source_id"].to_list() == ["L1"]
    assert "caf\ufffd" in export.rows["raw"][0]


def test_it_refuses_a_file_of_another_kind(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ExportError):
        read_export(path)
    with pytest.raises(ExportError, match="SRNumber"):
        read_export(path, "la")


def test_it_understands_statuses():
    assert status_kind("Closed (Duplicate)") == DUPLICATE
    assert status_kind("Open (Duplicate)") == DUPLICATE
    assert status_kind("Closed (Transferred)") == CLOSED
    assert status_kind("Referred Out") == CLOSED
    assert status_kind("In Progress") == HANDLING
    assert status_kind("Mystery") is None


def test_it_seeds_classes_and_sources_by_rule():
    assert classify_type("SW-Dirty Alley")[0] == "E0104"
    assert classify_type("Graffiti Removal")[0] == "E0201"
    assert classify_type("Bulky Items")[0] == "E0108"
    assert classify_type("Illegal Animal Kept as Pet")[0] == "E0118"
    assert classify_type("FCCS-Refunds")[0] is None
    assert classify_channel("PHONE")[0] == "hotline"
    assert classify_channel("MOBILE")[0] == "open311"
    assert classify_channel("Internal")[0] == "inspector"

"""iCalendar output (RFC 5545), read back by a strict parser: escaping, folding at 75
octets without splitting Vietnamese characters, UID, DTSTAMP, TZID with VTIMEZONE."""

from __future__ import annotations

import datetime as dt

from congvu.calendars import ical
from tests.calendars.icsparse import parse, unescape
from tests.conftest import at

NOW = dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC)
TZ = "Asia/Ho_Chi_Minh"


def _one(**kwargs: object) -> ical.IcsEvent:
    values: dict[str, object] = {
        "uid": "abc@gialai.gov.vn", "start": at("2026-11-23T08:00"),
        "end": at("2026-11-23T11:30"), "all_day": False,
        "summary": "Họp giao ban; Sở, các phòng\\ban"}
    values.update(kwargs)
    return ical.IcsEvent(**values)  # type: ignore[arg-type]


def test_gl_8_1_text_is_escaped_and_read_back_exactly() -> None:
    body = ical.render([_one(description="Dòng 1\nDòng 2, có dấu; phẩy")], name="Lịch",
                       tz=TZ, now=NOW)
    event = parse(body.encode()).all("VEVENT")[0]
    assert unescape(event.get("SUMMARY")) == "Họp giao ban; Sở, các phòng\\ban"
    assert unescape(event.get("DESCRIPTION")) == "Dòng 1\nDòng 2, có dấu; phẩy"
    assert event.get("UID") == "abc@gialai.gov.vn"
    assert event.get("DTSTAMP") == "20261124T030000Z"


def test_gl_8_1_long_vietnamese_lines_fold_at_75_octets_between_characters() -> None:
    title = "Hội nghị triển khai chuyển đổi số toàn tỉnh Gia Lai " * 6
    body = ical.render([_one(summary=title)], name="Lịch công tác", tz=TZ, now=NOW)
    for line in body.encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never cut inside a character
    event = parse(body.encode()).all("VEVENT")[0]
    assert unescape(event.get("SUMMARY")) == title


def test_fold_keeps_short_lines_and_counts_the_leading_space() -> None:
    assert ical.fold("SUMMARY:ngắn") == "SUMMARY:ngắn"
    folded = ical.fold("X:" + "ệ" * 60).split("\r\n ")
    assert len(folded[0].encode()) <= 75
    assert all(len(part.encode()) <= 74 for part in folded[1:])


def test_gl_8_1_local_times_carry_the_tzid_with_its_vtimezone() -> None:
    cal = parse(ical.render([_one()], name="L", tz=TZ, now=NOW).encode())
    (zone,) = cal.all("VTIMEZONE")
    assert zone.get("TZID") == TZ
    (standard,) = zone.all("STANDARD")
    assert standard.get("TZOFFSETTO") == "+0700" and standard.get("TZOFFSETFROM") == "+0700"
    event = cal.all("VEVENT")[0]
    assert event.params("DTSTART") == {"TZID": TZ}
    assert event.get("DTSTART") == "20261123T080000"
    assert event.get("DTEND") == "20261123T113000"
    assert cal.get("VERSION") == "2.0" and cal.get("PRODID")


def test_all_day_events_are_dates_with_an_exclusive_end() -> None:
    event = parse(ical.render([_one(all_day=True, start=at("2026-11-23"),
                                    end=at("2026-11-25"))], name="L", tz=TZ, now=NOW)
                  .encode()).all("VEVENT")[0]
    assert event.params("DTSTART") == {"VALUE": "DATE"}
    assert (event.get("DTSTART"), event.get("DTEND")) == ("20261123", "20261125")


def test_a_zone_with_daylight_saving_gets_utc_times() -> None:
    body = ical.render([_one()], name="L", tz="Europe/Paris", now=NOW)
    cal = parse(body.encode())
    assert not cal.all("VTIMEZONE")
    assert cal.all("VEVENT")[0].get("DTSTART") == "20261123T010000Z"

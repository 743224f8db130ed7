"""Unit tests for a seed's header lines, one line at a time: `header_line` (date lines, credits
with captions) and `parse_date`, for every form the README lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from generator.seeddates import parse_date
from generator.seedlines import header_line

EDT = timezone(timedelta(hours=-4))
BST = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("line", "when"),
    [
        # US wire forms, with a zone abbreviation, "at", a slash, a.m./p.m. spelt any way.
        ("April 21, 2016 10:30 AM EDT", datetime(2016, 4, 21, 10, 30, tzinfo=EDT)),
        ("April 21, 2016 at 10:30 AM EDT", datetime(2016, 4, 21, 10, 30, tzinfo=EDT)),
        ("Apr. 21, 2016 at 10:30 a.m. EDT", datetime(2016, 4, 21, 10, 30, tzinfo=EDT)),
        ("April 21, 2016 / 10:30 PM EDT", datetime(2016, 4, 21, 22, 30, tzinfo=EDT)),
        ("April 21 2016 10:30AM EDT", datetime(2016, 4, 21, 10, 30, tzinfo=EDT)),
        ("Thursday, April 21, 2016 10:30 AM (EDT)", datetime(2016, 4, 21, 10, 30, tzinfo=EDT)),
        ("April 21, 2016 10:30 AM EST", datetime(2016, 4, 21, 10, 30,
                                                 tzinfo=timezone(timedelta(hours=-5)))),
        ("April 21, 2016 10:30 AM CDT", datetime(2016, 4, 21, 10, 30,
                                                 tzinfo=timezone(timedelta(hours=-5)))),
        ("April 21, 2016 10:30 AM MST", datetime(2016, 4, 21, 10, 30,
                                                 tzinfo=timezone(timedelta(hours=-7)))),
        ("April 21, 2016 10:30 AM PDT", datetime(2016, 4, 21, 10, 30,
                                                 tzinfo=timezone(timedelta(hours=-7)))),
        ("Apr 21, 2016, 10:30 AM ET", datetime(2016, 4, 21, 10, 30, tzinfo=NEW_YORK)),
        ("April 21, 2016 10:30 PT", datetime(2016, 4, 21, 10, 30,
                                             tzinfo=ZoneInfo("America/Los_Angeles"))),
        # British and European forms: day first, dotted times.
        ("Thu 21 Apr 2016 14.30 BST", datetime(2016, 4, 21, 14, 30, tzinfo=BST)),
        ("21 April 2016 14:30 CEST", datetime(2016, 4, 21, 14, 30, tzinfo=CEST)),
        ("21 April 2016 14:30 CET", datetime(2016, 4, 21, 14, 30, tzinfo=BST)),
        ("21st April 2016 14:30 GMT", datetime(2016, 4, 21, 14, 30, tzinfo=UTC)),
        # ISO forms and numeric offsets.
        ("2016-04-21 14:30:00 UTC", datetime(2016, 4, 21, 14, 30, tzinfo=UTC)),
        ("2016-04-21T14:30:00Z", datetime(2016, 4, 21, 14, 30, tzinfo=UTC)),
        ("2016-04-21T09:30:00.123+02:00", datetime(2016, 4, 21, 9, 30, tzinfo=CEST)),
        ("2016-04-21 09:30 +0200", datetime(2016, 4, 21, 9, 30, tzinfo=CEST)),
        ("April 21, 2016 09:30 UTC+2", datetime(2016, 4, 21, 9, 30, tzinfo=CEST)),
        ("April 21, 2016 09:30 GMT-04:00", datetime(2016, 4, 21, 9, 30, tzinfo=EDT)),
        # No zone: naive, read later in the site's time zone.
        ("April 21, 2016", datetime(2016, 4, 21)),
        ("Sept. 1, 2016", datetime(2016, 9, 1)),
        ("2016-04-21 09:30", datetime(2016, 4, 21, 9, 30)),
        # Labels.
        ("Published April 21, 2016 10:30 AM ET", datetime(2016, 4, 21, 10, 30, tzinfo=NEW_YORK)),
        ("Published: 21 Apr 2016 14:30 +0100", datetime(2016, 4, 21, 14, 30, tzinfo=BST)),
        ("Published 21 April 2016, 14:30 GMT", datetime(2016, 4, 21, 14, 30, tzinfo=UTC)),
        ("Published: 2016-04-21 UTC", datetime(2016, 4, 21, tzinfo=UTC)),
        ("Posted on April 21, 2016", datetime(2016, 4, 21)),
        ("First published on Thu 21 Apr 2016 14.30 BST", datetime(2016, 4, 21, 14, 30,
                                                                   tzinfo=BST)),
        ("Originally published: April 21, 2016", datetime(2016, 4, 21)),
    ],
)
def test_date_lines(line: str, when: datetime) -> None:
    meta = header_line(line, 7)
    assert meta is not None and (meta.kind, meta.line, meta.updated) == ("date", 7, None)
    assert meta.when == when
    assert meta.when is not None and meta.when.tzinfo == when.tzinfo


@pytest.mark.parametrize(
    ("line", "when", "updated"),
    [
        ("Updated: April 21, 2016 10:30 AM ET", None,
         datetime(2016, 4, 21, 10, 30, tzinfo=NEW_YORK)),
        ("Last updated: 21 April 2016 14:30 BST", None, datetime(2016, 4, 21, 14, 30, tzinfo=BST)),
        ("Last modified on Thu 21 Apr 2016 15.00 BST", None,
         datetime(2016, 4, 21, 15, tzinfo=BST)),
        ("Updated 10:30 AM EDT, Thu April 21, 2016", None,
         datetime(2016, 4, 21, 10, 30, tzinfo=EDT)),
        ("Published April 21, 2016 Updated April 22, 2016", datetime(2016, 4, 21),
         datetime(2016, 4, 22)),
        ("Published: April 21, 2016 | Last updated: April 22, 2016 9:00 AM", datetime(2016, 4, 21),
         datetime(2016, 4, 22, 9)),
        ("Originally published April 20, 2016; updated April 21, 2016", datetime(2016, 4, 20),
         datetime(2016, 4, 21)),
        # The Guardian: the last change first, then when the story was first published.
        ("Thu 21 Apr 2016 15.00 BST First published on Thu 21 Apr 2016 13.00 BST",
         datetime(2016, 4, 21, 13, tzinfo=BST), datetime(2016, 4, 21, 15, tzinfo=BST)),
        # An update time that is no time is dropped; the publication date stays.
        ("Published: April 21, 2016 | Updated: 2 hours ago", datetime(2016, 4, 21), None),
    ],
)
def test_date_lines_with_an_update(line: str, when: datetime | None,
                                   updated: datetime | None) -> None:
    meta = header_line(line, 3)
    assert meta is not None and meta.kind == "date"
    assert (meta.when, meta.updated) == (when, updated)


@pytest.mark.parametrize("line", [
    "Published: sometime in spring",  # a labelled line: a date line that cannot be read
    "Date: 2016-13-45",
    "Updated: yesterday",
])
def test_unreadable_date_lines(line: str) -> None:
    meta = header_line(line, 1)
    assert meta is not None and (meta.kind, meta.when, meta.updated) == ("date", None, None)


@pytest.mark.parametrize("line", [
    "Updated figures show growth in 2016",  # a sentence
    "Published by Penguin in 2016",
    "21 people died in 2016",
    "May 2016",  # no day: not a date to publish under
    "21/04/2016",  # day or month first? Not guessed
    "April 31, 2016",
    "April 21, 2016 14:30 PM",
    "In April 21, 2016 was a Thursday",
])
def test_not_date_lines(line: str) -> None:
    assert header_line(line, 1) is None


def test_parse_date_rejects_long_text_quickly() -> None:
    assert parse_date("April 21, 2016 " * 1000) is None
    assert parse_date("") is None


@pytest.mark.parametrize(
    ("line", "credit", "caption"),
    [
        ("Soldiers patrol the streets of Tripoli. Photograph: Getty Images", "Getty Images",
         "Soldiers patrol the streets of Tripoli."),
        ("Soldiers patrol Tripoli. Photograph: Mahmud Turkia/AFP via Getty Images",
         "Mahmud Turkia/AFP via Getty Images", "Soldiers patrol Tripoli."),
        ("Rescue workers in Leeds on Monday. Photo: PA", "PA", "Rescue workers in Leeds on Monday."),
        ("A family photo from 1990. Picture: Courtesy of the family", "Courtesy of the family",
         "A family photo from 1990."),
        ("Rescue workers in Leeds. Credit: Tyler Hicks/The New York Times",
         "Tyler Hicks/The New York Times", "Rescue workers in Leeds."),
        ("Rescue workers in Leeds on Monday. (AP Photo/Jane Doe)", "AP Photo/Jane Doe",
         "Rescue workers in Leeds on Monday."),
    ],
)
def test_caption_and_credit_on_one_line(line: str, credit: str, caption: str) -> None:
    meta = header_line(line, 1)
    assert meta is not None and (meta.kind, meta.value, meta.caption) == ("credit", credit, caption)


@pytest.mark.parametrize("line", [
    "The minister said it was a disaster. Image: nothing was left of it.",
    "He showed the photo: a crater where the school stood.",
    "Officials said the picture: was clear.",
])
def test_sentences_mentioning_a_photo_are_not_credits(line: str) -> None:
    assert header_line(line, 1) is None

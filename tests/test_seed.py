"""Unit tests for the seed stage: the real sample, then one test per SEED-FORMAT variant."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.errors import IngestError, SourceLocation
from generator.seed import Seed, parse_seed

SEEDS = Path(__file__).parent / "seeds"
SAMPLE = SEEDS / "000_58ad658e4daf8054.txt"

NO_BODY = ("no body: the seed has only a headline; its article is a draft (draft: true), "
           "left out of the site")


def parse(text: str | bytes, name: str = "seed.txt") -> Seed:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return parse_seed(raw, Path(name))


def messages(seed: Seed) -> list[str]:
    return [warning.message for warning in seed.warnings]


# --- the real sample -------------------------------------------------------------------------


def test_sample_golden() -> None:
    seed = parse_seed(SAMPLE.read_bytes(), SAMPLE)
    assert seed.path == SAMPLE
    assert seed.headline == "We will soon decide whether to Deploy American Troops in Libya"
    assert seed.standfirst == (
        "According to Marine Gen. Joseph Dunford, chairman of the Joint Chiefs of Staff, the US "
        "wants to make her contribution to what is happening in Libya and remained stable in the "
        "forces"
    )
    assert seed.image_credit == "AP"
    assert seed.image_caption is None
    assert seed.authors == ()
    assert seed.dateline is None
    assert seed.date is None
    # The file has six body paragraphs after "Photo: AP" (ten blocks in all).
    assert len(seed.paragraphs) == 6
    assert seed.paragraphs[0] == (
        '"The Egyptians are taking the fight to the Islamic State right now,” said General '
        'Joseph Dunford, chairman of the Joint Chiefs of Staff, in an interview to "The Voice of '
        'America". The U.S. estimates the number of IS fighters there to be in the high '
        "hundreds – up to about 1,000."
    )
    assert seed.paragraphs[-1] == (
        "A small number of U.S. Special Operations troops have been deployed to the Libyan cities "
        "of Misrata and Benghazi to assess who could be partners for U.S. forces since late last "
        "year, U.S. officials acknowledge. Dunford declined to comment on their operations "
        "Thursday, but said the United States is looking for ways to make “a unique contribution” "
        "to the effort."
    )
    # The no-break space in "Prime Minister Fayez" is news text and survives.
    assert "Prime Minister\u00a0Fayez Sarraj" in seed.paragraphs[3]
    assert seed.warnings == ()


def test_sample_body_is_the_file_text() -> None:
    # Every body paragraph is a block of the file, character for character.
    seed = parse_seed(SAMPLE.read_bytes(), SAMPLE)
    blocks = SAMPLE.read_text(encoding="utf-8").split("\n\n")
    assert seed.paragraphs == tuple(blocks[4:])


def test_fixture_wire_story() -> None:
    path = SEEDS / "101_5eed000000000101.txt"
    seed = parse_seed(path.read_bytes(), path)
    assert seed.headline == "Oil prices ‘will stay low’, OPEC says"
    assert seed.standfirst is None
    assert seed.authors == ("Jane Doe", "John Roe")
    assert seed.date == datetime(2016, 4, 21, 9, 30, tzinfo=UTC)
    assert seed.image_credit == "Reuters Photo/Lucas Jackson"
    assert seed.image_caption == "Traders work on the floor of the exchange."
    assert seed.dateline == "LONDON (Reuters)"
    assert seed.paragraphs == (
        "Oil prices fell on Thursday as *producers* met in Doha; analysts said the market was "
        '"oversupplied".',
        '# 1. Not a heading, not a list: <script>alert("x")</script> &amp; 2 * 3 = 6',
        "“We will see,” said OPEC’s chief.",
    )
    assert messages(seed) == [
        "no standfirst: the block after the headline is not a summary followed by more body"
    ]


def test_fixture_windows_1252_with_crlf() -> None:
    path = SEEDS / "102_5eed000000000102.txt"
    seed = parse_seed(path.read_bytes(), path)
    assert seed.headline == "Café owners “fear the worst” – poll"
    assert seed.standfirst == "A summary of the poll"
    assert (seed.image_credit, seed.image_caption) == ("AP", "A café in Paris.")
    assert seed.dateline == "PARIS"
    assert seed.paragraphs == ("Owners said sales fell 20 %.", "More to come.")
    assert messages(seed) == ["not valid UTF-8 (first bad byte at offset 3); decoded as Windows-1252"]
    assert seed.warnings[0].location == SourceLocation(path, 1, 4)


def test_fixture_headline_only_with_bom() -> None:
    path = SEEDS / "103_5eed000000000103.txt"
    seed = parse_seed(path.read_bytes(), path)
    assert seed.headline == "A headline and nothing else"
    assert seed.paragraphs == ()
    assert messages(seed) == [NO_BODY]
    assert seed.warnings[0].location == SourceLocation(path, 1)


# --- headline --------------------------------------------------------------------------------

BODY = "\n\nThe standfirst\n\nFirst paragraph.\n\nSecond paragraph."


@pytest.mark.parametrize(
    ("line", "headline"),
    [
        ("Troops head to Libya", "Troops head to Libya"),
        ('"Troops head to Libya"', "Troops head to Libya"),
        ("“Troops head to Libya”", "Troops head to Libya"),
        ('"Troops head to Libya”', "Troops head to Libya"),
        ("  “Troops head to Libya”  ", "Troops head to Libya"),
        ("“Trump: ‘We will win’ in Libya”", "Trump: ‘We will win’ in Libya"),
        ('"Trump says “we will win”"', "Trump says “we will win”"),
        ('"Trump says "we will win""', 'Trump says "we will win"'),
        ('Trump says "we will win"', 'Trump says "we will win"'),
        ('"We will win," Trump says', '"We will win," Trump says'),
        ('"Yes," he said, "no"', '"Yes," he said, "no"'),
        ("“Deal” or “no deal”", "“Deal” or “no deal”"),
        ('""', '""'),
    ],
)
def test_headline_quotes(line: str, headline: str) -> None:
    assert parse(line + BODY).headline == headline


def test_headline_followed_by_text_without_blank_line() -> None:
    seed = parse("Headline\nStandfirst glued on\n\nBody one.\n\nBody two.")
    assert seed.headline == "Headline"
    assert seed.standfirst == "Standfirst glued on"
    assert any("headline line is followed" in m for m in messages(seed))
    assert seed.warnings[0].location == SourceLocation(Path("seed.txt"), 2)


# --- standfirst and the repeated headline ------------------------------------------------------


def test_no_standfirst_when_only_one_paragraph() -> None:
    seed = parse("Headline\n\nThe only paragraph.")
    assert seed.standfirst is None
    assert seed.paragraphs == ("The only paragraph.",)
    assert any(m.startswith("no standfirst") for m in messages(seed))


def test_no_standfirst_when_byline_comes_first() -> None:
    seed = parse("Headline\n\nBy Jane Doe\n\nFirst paragraph.\n\nSecond paragraph.")
    assert seed.standfirst is None
    assert seed.paragraphs == ("First paragraph.", "Second paragraph.")
    assert seed.warnings[0].location == SourceLocation(Path("seed.txt"), 5)


def test_no_standfirst_when_first_block_has_dateline() -> None:
    seed = parse("Headline\n\nWASHINGTON — First paragraph.\n\nSecond paragraph.")
    assert seed.standfirst is None
    assert seed.dateline == "WASHINGTON"
    assert seed.paragraphs == ("First paragraph.", "Second paragraph.")


def test_no_repeated_headline() -> None:
    seed = parse("Headline\n\nStandfirst\n\nPhoto: AP\n\nBody one.\n\nBody two.")
    assert seed.standfirst == "Standfirst"
    assert seed.image_credit == "AP"
    assert seed.paragraphs == ("Body one.", "Body two.")


@pytest.mark.parametrize(
    "copy",
    [
        '"Troops head to Libya"',
        "“TROOPS HEAD TO LIBYA”",
        "troops head to libya!",
        "Troops  head\nto Libya",
        "'Troops head to Libya.'",
    ],
)
def test_repeated_headline_is_dropped(copy: str) -> None:
    seed = parse(f'"Troops head to Libya"\n\nStandfirst\n\n{copy}\n\nBody one.\n\nBody two.')
    assert seed.standfirst == "Standfirst"
    assert seed.paragraphs == ("Body one.", "Body two.")


def test_repeated_headline_right_after_headline() -> None:
    seed = parse("Troops head to Libya\n\nTroops head to Libya\n\nStandfirst\n\nBody.\n\nMore.")
    assert seed.standfirst == "Standfirst"
    assert seed.paragraphs == ("Body.", "More.")


# --- credit and caption ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "credit"),
    [
        ("Photo: AP", "AP"),
        ("Photo: Reuters/Jane Doe", "Reuters/Jane Doe"),
        ("Photograph: Jane Doe/The Guardian", "Jane Doe/The Guardian"),
        ("Image: Getty Images", "Getty Images"),
        ("Picture: EPA", "EPA"),
        ("PHOTO: AFP", "AFP"),
        ("(AP Photo/Jane Doe)", "AP Photo/Jane Doe"),
        ("(Photo: Reuters)", "Reuters"),
        ("Photo by Jane Doe", "Jane Doe"),
    ],
)
def test_credit_forms(line: str, credit: str) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{line}\n\nBody one.\n\nBody two.")
    assert seed.image_credit == credit
    assert seed.image_caption is None
    assert seed.paragraphs == ("Body one.", "Body two.")


def test_no_credit() -> None:
    seed = parse("Headline\n\nStandfirst\n\nBody one.\n\nBody two.")
    assert seed.image_credit is None
    assert seed.image_caption is None


@pytest.mark.parametrize(
    "header",
    [
        "Photo: Reuters/Jane Doe\nProtesters gather in Cairo.",
        "Photo: Reuters/Jane Doe\n\nCaption: Protesters gather in Cairo.",
        "Caption: Protesters gather in Cairo.\nPhoto: Reuters/Jane Doe",
        "Protesters gather in Cairo. (Photo: Reuters/Jane Doe)",
        "Protesters gather in Cairo.\nPhoto: Reuters/Jane Doe",  # glued above the credit
        "Protesters gather in Cairo. Photograph: Reuters/Jane Doe",  # one line, Guardian style
        "Protesters gather in Cairo. Photograph: Reuters/Jane Doe.",
    ],
)
def test_caption_beside_credit(header: str) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{header}\n\nBody one.\n\nBody two.")
    assert seed.image_credit == "Reuters/Jane Doe"
    assert seed.image_caption == "Protesters gather in Cairo."
    assert seed.standfirst == "Standfirst"
    assert seed.paragraphs == ("Body one.", "Body two.")


LONG_LINE = "Body one, " + "and more of it " * 20 + "ends here."


@pytest.mark.parametrize("block", [f"Photo: AP\n{LONG_LINE}", f"{LONG_LINE}\nPhoto: AP"],
                         ids=["below", "above"])
def test_a_long_line_glued_to_a_credit_stays_body_text(block: str) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{block}\n\nBody two.")
    assert seed.image_credit == "AP" and seed.image_caption is None
    assert seed.paragraphs == (LONG_LINE, "Body two.")


@pytest.mark.parametrize("paragraph", [
    "The minister said it was a disaster. Image: nothing was left of it.",
    "He showed the photo: a crater where the school stood.",
])
def test_a_first_paragraph_mentioning_a_photo_stays_body_text(paragraph: str) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\nPhoto: AP\n\n{paragraph}\n\nBody two.")
    assert (seed.image_credit, seed.image_caption) == ("AP", None)
    assert seed.paragraphs == (paragraph, "Body two.")


def test_caption_above_credit_with_the_reported_layout() -> None:
    seed = parse('"Storm hits Leeds"\n\nFloods close roads across the city\n\n'
                 "Rescue workers in Leeds on Monday.\nPhoto: PA\n\nBody one.\n\nBody two.")
    assert seed.standfirst == "Floods close roads across the city"
    assert (seed.image_credit, seed.image_caption) == ("PA", "Rescue workers in Leeds on Monday.")
    assert seed.paragraphs == ("Body one.", "Body two.")


def test_credit_glued_below_the_standfirst() -> None:
    # Only a line *below* the credit in its block is a caption; the standfirst above stays.
    seed = parse("Headline\n\nStandfirst\nPhoto: AP\n\nBody one.\n\nBody two.")
    assert seed.standfirst == "Standfirst"
    assert seed.image_credit == "AP"
    assert seed.image_caption is None
    assert seed.paragraphs == ("Body one.", "Body two.")


def test_text_glued_below_a_byline_is_body() -> None:
    seed = parse("Headline\n\nBy Jane Doe\nFirst paragraph.\n\nSecond paragraph.")
    assert seed.standfirst is None
    assert seed.authors == ("Jane Doe",)
    assert seed.paragraphs == ("First paragraph.", "Second paragraph.")


def test_second_credit_is_ignored_with_warning() -> None:
    seed = parse("Headline\n\nPhoto: AP\n\nPhoto: Reuters\n\nBody one.\n\nBody two.")
    assert seed.image_credit == "AP"
    assert "a second photo credit was ignored" in messages(seed)


def test_credit_lines_in_the_body_stay_text() -> None:
    seed = parse("Headline\n\nStandfirst\n\nBody one.\n\nPhoto: AP\n\nBy Jane Doe\n\n2016-04-21")
    assert seed.image_credit is None
    assert seed.authors == ()
    assert seed.date is None
    assert seed.paragraphs == ("Body one.", "Photo: AP", "By Jane Doe", "2016-04-21")


# --- byline ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "authors"),
    [
        ("By Jane Doe", ("Jane Doe",)),
        ("By Jane Doe and John Roe", ("Jane Doe", "John Roe")),
        ("BY JANE DOE", ("JANE DOE",)),
        ("BY JANE DOE AND JOHN ROE", ("JANE DOE", "JOHN ROE")),
        ("By Jane Doe, John Roe and Ann Poe", ("Jane Doe", "John Roe", "Ann Poe")),
        ("By Jane Doe, Reuters", ("Jane Doe",)),
        ("By Reuters", ()),
        ("Jane Doe, Reuters", ("Jane Doe",)),
        ("Jane Doe and John Roe, Associated Press", ("Jane Doe", "John Roe")),
        ("Jane Doe, Staff Writer", ("Jane Doe",)),
        ("By Ludwig van Beethoven", ("Ludwig van Beethoven",)),
    ],
)
def test_byline_forms(line: str, authors: tuple[str, ...]) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{line}\n\nBody one.\n\nBody two.")
    assert seed.authors == authors
    assert seed.standfirst == "Standfirst"
    assert seed.paragraphs == ("Body one.", "Body two.")


@pytest.mark.parametrize("line", ["By the way, this is a sentence", "Washington, Reuters said"])
def test_sentences_are_not_bylines(line: str) -> None:
    seed = parse(f"Headline\n\n{line}\n\nBody one.")
    assert seed.authors == ()
    assert seed.standfirst == line


def test_byline_and_date_in_one_block() -> None:
    seed = parse("Headline\n\nBy Jane Doe\nPublished: 2016-04-21\n\nBody one.\n\nBody two.")
    assert seed.authors == ("Jane Doe",)
    assert seed.date == datetime(2016, 4, 21)
    assert seed.paragraphs == ("Body one.", "Body two.")


def test_byline_glued_to_first_paragraph() -> None:
    seed = parse("Headline\n\nBy Jane Doe\nWASHINGTON — Body one.\n\nBody two.")
    assert seed.authors == ("Jane Doe",)
    assert seed.dateline == "WASHINGTON"
    assert seed.paragraphs == ("Body one.", "Body two.")


# --- dateline --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "dateline"),
    [
        ("WASHINGTON — ", "WASHINGTON"),
        ("WASHINGTON—", "WASHINGTON"),
        ("WASHINGTON - ", "WASHINGTON"),
        ("WASHINGTON -- ", "WASHINGTON"),
        ("LONDON (Reuters) - ", "LONDON (Reuters)"),
        ("WASHINGTON (AP) — ", "WASHINGTON (AP)"),
        ("LONDON, April 21 (Reuters) - ", "LONDON, April 21 (Reuters)"),
        ("WILKES-BARRE, Pa. — ", "WILKES-BARRE, Pa."),
        ("NEW YORK, April 21 (AP) — ", "NEW YORK, April 21 (AP)"),
        ("ST. LOUIS, Mo. — ", "ST. LOUIS, Mo."),
        ("SÃO PAULO – ", "SÃO PAULO"),
    ],
)
def test_dateline_forms(opening: str, dateline: str) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{opening}The Pentagon said.\n\nMore.")
    assert seed.dateline == dateline
    assert seed.paragraphs == ("The Pentagon said.", "More.")


@pytest.mark.parametrize(
    "paragraph",
    [
        "Washington — the capital — said no.",
        "NATO — the alliance — said no.",
        "US officials said - no",
        "The WASHINGTON — story",
        "WASHINGTON said nothing.",
    ],
)
def test_not_a_dateline(paragraph: str) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{paragraph}\n\nMore.")
    assert seed.dateline is None
    assert seed.paragraphs == (paragraph, "More.")


def test_dateline_only_on_first_paragraph() -> None:
    seed = parse("Headline\n\nStandfirst\n\nBody one.\n\nLONDON — Body two.")
    assert seed.dateline is None
    assert seed.paragraphs == ("Body one.", "LONDON — Body two.")


# --- date ------------------------------------------------------------------------------------

PLUS_TWO = timezone(timedelta(hours=2))
PLUS_ONE = timezone(timedelta(hours=1))
MINUS_FOUR = timezone(timedelta(hours=-4))


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("Published: 2016-04-21", datetime(2016, 4, 21)),
        ("Date: 2016-04-21T09:30:00+0200", datetime(2016, 4, 21, 9, 30, tzinfo=PLUS_TWO)),
        ("Published: April 21, 2016", datetime(2016, 4, 21)),
        ("Posted on April 21, 2016", datetime(2016, 4, 21)),
        ("April 21, 2016", datetime(2016, 4, 21)),
        ("Apr. 21, 2016", datetime(2016, 4, 21)),
        ("Sept. 1, 2016", datetime(2016, 9, 1)),
        ("Thursday, April 21, 2016", datetime(2016, 4, 21)),
        ("21 April 2016", datetime(2016, 4, 21)),
        ("2016-04-21", datetime(2016, 4, 21)),
        ("2016-04-21 09:30", datetime(2016, 4, 21, 9, 30)),
        ("April 21, 2016 9:30 AM", datetime(2016, 4, 21, 9, 30)),
        ("April 21, 2016 14:05 GMT", datetime(2016, 4, 21, 14, 5, tzinfo=UTC)),
        ("2016-04-21T09:30:00Z", datetime(2016, 4, 21, 9, 30, tzinfo=UTC)),
        (
            "Published: 2016-04-21T09:30:00+02:00",
            datetime(2016, 4, 21, 9, 30, tzinfo=PLUS_TWO),
        ),
        # Time zones as wires write them: abbreviations, offsets, regional zones (DST-aware).
        ("April 21, 2016 10:30 AM EDT", datetime(2016, 4, 21, 10, 30, tzinfo=MINUS_FOUR)),
        ("2016-04-21 14:30:00 UTC", datetime(2016, 4, 21, 14, 30, tzinfo=UTC)),
        ("Thu 21 Apr 2016 14.30 BST", datetime(2016, 4, 21, 14, 30, tzinfo=PLUS_ONE)),
        ("21 April 2016 09:30 +0200", datetime(2016, 4, 21, 9, 30, tzinfo=PLUS_TWO)),
        ("Published April 21, 2016 10:30 AM ET",
         datetime(2016, 4, 21, 10, 30, tzinfo=ZoneInfo("America/New_York"))),
        ("Apr. 21, 2016 at 10:30 a.m. EDT", datetime(2016, 4, 21, 10, 30, tzinfo=MINUS_FOUR)),
        ("Published 21 April 2016, 14:30 GMT", datetime(2016, 4, 21, 14, 30, tzinfo=UTC)),
        ("First published on Thu 21 Apr 2016 14.30 BST",
         datetime(2016, 4, 21, 14, 30, tzinfo=PLUS_ONE)),
    ],
)
def test_date_forms(line: str, date: datetime) -> None:
    seed = parse(f"Headline\n\nStandfirst\n\n{line}\n\nBody one.\n\nBody two.")
    assert seed.date == date
    assert seed.date is not None and seed.date.tzinfo == date.tzinfo
    assert seed.paragraphs == ("Body one.", "Body two.")
    assert seed.warnings == ()


def test_eastern_time_follows_daylight_saving() -> None:
    summer = parse("Headline\n\nStandfirst\n\nApril 21, 2016 10:30 AM ET\n\nBody.\n\nMore.")
    winter = parse("Headline\n\nStandfirst\n\nJanuary 5, 2016 10:30 AM ET\n\nBody.\n\nMore.")
    assert summer.date is not None and summer.date.utcoffset() == timedelta(hours=-4)
    assert winter.date is not None and winter.date.utcoffset() == timedelta(hours=-5)


def test_updated_line_is_removed_and_read_as_the_update_time() -> None:
    seed = parse("Headline\n\nStandfirst\n\nUpdated: 2016-04-22\nPublished: 2016-04-21\n\n"
                 "Body.\n\nMore.")
    assert (seed.date, seed.updated) == (datetime(2016, 4, 21), datetime(2016, 4, 22))
    assert seed.paragraphs == ("Body.", "More.")
    assert seed.warnings == ()


def test_guardian_date_line_gives_publication_and_update() -> None:
    seed = parse("Headline\n\nStandfirst\n\nThu 21 Apr 2016 15.00 BST First published on "
                 "Thu 21 Apr 2016 13.00 BST\n\nBody.\n\nMore.")
    assert seed.date == datetime(2016, 4, 21, 13, tzinfo=PLUS_ONE)
    assert seed.updated == datetime(2016, 4, 21, 15, tzinfo=PLUS_ONE)
    assert seed.paragraphs == ("Body.", "More.")


def test_only_an_update_time_dates_the_seed_with_a_warning() -> None:
    seed = parse("Headline\n\nStandfirst\n\nUpdated 10:30 AM EDT, Thu April 21, 2016\n\n"
                 "Body.\n\nMore.")
    assert (seed.date, seed.updated) == (datetime(2016, 4, 21, 10, 30, tzinfo=MINUS_FOUR), None)
    assert seed.paragraphs == ("Body.", "More.")
    [warning] = seed.warnings
    assert warning.message == "no publication date; dated from this line's update time"
    assert warning.location == SourceLocation(Path("seed.txt"), 5)
    assert warning.hint is not None and "Published: 2016-04-21 10:30 EDT" in warning.hint


def test_unreadable_date_warns() -> None:
    seed = parse("Headline\n\nStandfirst\n\nPublished: sometime in spring\n\nBody.\n\nMore.")
    assert seed.date is None
    assert seed.paragraphs == ("Body.", "More.")
    [warning] = seed.warnings
    assert "cannot read the date" in warning.message
    assert warning.location == SourceLocation(Path("seed.txt"), 5)


def test_no_date_is_not_a_warning() -> None:
    seed = parse("Headline\n\nStandfirst\n\nBody.\n\nMore.")
    assert seed.date is None
    assert seed.warnings == ()


def test_sentence_starting_with_updated_is_text() -> None:
    seed = parse("Headline\n\nUpdated figures show growth\n\nBody.")
    assert seed.standfirst == "Updated figures show growth"
    assert seed.paragraphs == ("Body.",)


# --- whitespace, line endings, encodings -------------------------------------------------------

EXPECTED = ("Headline", "Standfirst", ("Body one.", "Body two."))


@pytest.mark.parametrize(
    "raw",
    [
        b"Headline\r\n\r\nStandfirst\r\n\r\nBody one.\r\n\r\nBody two.\r\n",
        b"Headline\r\rStandfirst\r\rBody one.\r\rBody two.",
        b"\xef\xbb\xbfHeadline\n\nStandfirst\n\nBody one.\n\nBody two.\n",
        b"Headline   \n \t \nStandfirst\t\n\nBody one.  \n\nBody two.\t \n\n\n",
        b"\n\n\nHeadline\n\n\n\n\n\nStandfirst\n\n\n\nBody one.\n \n\t\n\nBody two.",
    ],
    ids=["crlf", "cr", "bom", "trailing-whitespace", "many-blank-lines"],
)
def test_line_endings_and_whitespace(raw: bytes) -> None:
    seed = parse(raw)
    assert (seed.headline, seed.standfirst, seed.paragraphs) == EXPECTED
    assert seed.warnings == ()


def test_lines_of_a_paragraph_are_joined_and_inner_tabs_kept() -> None:
    seed = parse("Headline\n\nStandfirst\n\n  Body\tone\n   continues here. \n\nBody two.")
    assert seed.paragraphs == ("Body\tone continues here.", "Body two.")


def test_markup_lookalikes_are_preserved_exactly() -> None:
    paragraphs = (
        "*Not emphasis* and _not_ either, 2 * 3 = 6",
        "# Not a heading",
        "1. Not a list item",
        "<script>alert('x')</script> &amp; &lt;b&gt; <b>bold?</b>",
        "- dash [link](http://example.com) `code` \\escaped",
    )
    seed = parse("Headline\n\nStandfirst\n\n" + "\n\n".join(paragraphs))
    assert seed.paragraphs == paragraphs
    assert seed.dateline is None


def test_windows_1252_is_decoded_with_warning() -> None:
    raw = "Café “news” – ok\n\nStandfirst\n\nBody one.\n\nBody two.".encode("cp1252")
    seed = parse(raw)
    assert seed.headline == "Café “news” – ok"
    [warning] = seed.warnings
    assert warning.severity == "warning"
    assert "Windows-1252" in warning.message
    assert warning.location == SourceLocation(Path("seed.txt"), 1, 4)


def test_latin_1_fallback_when_not_windows_1252() -> None:
    # 0x81 is undefined in Windows-1252, so only Latin-1 can read these bytes.
    seed = parse(b"Headline \x81\xe9\n\nStandfirst\n\nBody one.\n\nBody two.")
    assert seed.headline == "Headline \x81é"
    assert "Latin-1" in messages(seed)[0]


@pytest.mark.parametrize("raw", [b"", b"   \n\n\t\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n \n"])
def test_empty_file_is_an_error(raw: bytes) -> None:
    with pytest.raises(IngestError) as caught:
        parse(raw, "empty.txt")
    assert "empty" in caught.value.message
    assert caught.value.location == SourceLocation(Path("empty.txt"))
    assert caught.value.hint


def test_headline_only_warns() -> None:
    seed = parse('"Just a headline"\n')
    assert seed.headline == "Just a headline"
    assert seed.standfirst is None
    assert seed.paragraphs == ()
    assert messages(seed) == [NO_BODY]
    # It says how to publish the story, and how to preview the draft.
    hint = seed.warnings[0].hint or ""
    assert "below the headline" in hint and "draft: true" in hint and "--drafts" in hint


def test_headline_and_credit_only() -> None:
    seed = parse("Just a headline\n\nPhoto: AP")
    assert seed.image_credit == "AP"
    assert seed.paragraphs == ()
    assert messages(seed) == [NO_BODY]


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "Headline\n\nBody".encode("utf-16"),
        bytes(range(1, 32)) * 10,
    ],
    ids=["png", "utf-16", "control-bytes"],
)
def test_binary_file_is_an_error(raw: bytes) -> None:
    with pytest.raises(IngestError) as caught:
        parse(raw, "image.txt")
    assert caught.value.message == "image.txt is not a text file"
    assert caught.value.hint


def test_ten_megabyte_file_parses() -> None:
    body = SAMPLE.read_bytes().split(b"\n\n")[-1]
    raw = b"Headline\n\nStandfirst\n\n" + b"\n\n".join([body] * 30_000)
    assert len(raw) > 10_000_000
    seed = parse(raw)
    assert len(seed.paragraphs) == 30_000


def test_ten_megabytes_of_short_lines_parses() -> None:
    raw = b"Headline\n\n" + b"word\n" * 2_000_000
    seed = parse(raw)
    assert len(seed.paragraphs) == 1


def test_header_lines_are_only_read_near_the_top() -> None:
    # A scrape repeating header lines: past the header window they are body text.
    raw = b"Headline\n\n" + b"Photo: AP\n\n" * 200_000 + b"Published: soon\n" * 200_000
    seed = parse(raw)
    assert seed.image_credit == "AP"
    assert seed.paragraphs[0] == "Photo: AP"
    assert len(seed.paragraphs) == 200_000 - 12 + 1
    assert messages(seed) == [
        "a second photo credit was ignored (and 10 more)",
        "no standfirst: the block after the headline is not a summary followed by more body",
    ]


# --- robustness ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_seed_or_an_ingest_error(text: str) -> None:
    try:
        seed = parse(text)
    except IngestError:
        return
    assert seed.headline
    assert all(paragraph and paragraph == paragraph.strip() for paragraph in seed.paragraphs)


_WORDS = st.sampled_from(
    ["Photo:", "By", "AP", "Jane", "Doe,", "Reuters", "WASHINGTON", "—", "-", "(AP)", "Published:",
     "2016-04-21", "April", "21,", "2016", '"', "“", "”", "Caption:", "and", "text", "(", ")"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_WORDS, max_size=8).map(" ".join), max_size=12).map("\n\n".join))
def test_seed_like_text_never_crashes(text: str) -> None:
    with contextlib.suppress(IngestError):
        parse(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_seed_or_an_ingest_error(raw: bytes) -> None:
    with contextlib.suppress(IngestError):
        parse(raw)

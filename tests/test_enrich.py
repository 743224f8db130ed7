"""Unit tests for the enrich stage: tags from recurring proper nouns, section by keyword score."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.enrich import derive_tags, pick_section
from generator.seed import Seed, parse_seed

SAMPLE = Path(__file__).parent / "seeds" / "000_58ad658e4daf8054.txt"


def sample() -> Seed:
    return parse_seed(SAMPLE.read_bytes(), SAMPLE)


def seed_of(*paragraphs: str, headline: str = "Headline", standfirst: str | None = None) -> Seed:
    return Seed(
        path=Path("seed.txt"),
        headline=headline,
        standfirst=standfirst,
        image_credit=None,
        image_caption=None,
        authors=(),
        dateline=None,
        date=None,
        paragraphs=paragraphs,
        warnings=(),
    )


# --- tags ------------------------------------------------------------------------------------


def test_sample_tags() -> None:
    tags = derive_tags(sample())
    assert tags == ("U.S.", "Dunford", "Islamic State", "Libya", "Joint Chiefs of Staff")
    assert "Dunford" in tags and "Libya" in tags


def test_sample_tags_beyond_five() -> None:
    assert derive_tags(sample(), max_tags=10) == (
        "U.S.", "Dunford", "Islamic State", "Libya", "Joint Chiefs of Staff", "Sinai", "Libyan",
        "NATO",
    )


@pytest.mark.parametrize("max_tags", [0, -1])
def test_no_tags_asked(max_tags: int) -> None:
    assert derive_tags(sample(), max_tags=max_tags) == ()


def test_tags_are_deterministic() -> None:
    first = derive_tags(sample())
    assert all(derive_tags(sample()) == first for _ in range(5))


def test_single_mentions_are_not_tags() -> None:
    assert derive_tags(seed_of("Angela Merkel met Emmanuel Macron in Berlin.")) == ()


def test_sentence_openers_months_and_weekdays_are_not_tags() -> None:
    seed = seed_of(
        "The talks began. The talks ended. There was no deal. There was anger.",
        "On Monday, in April, they met. On Monday, in April, they left. We’re done. We’re out.",
    )
    assert derive_tags(seed) == ()


def test_a_word_capitalised_only_where_sentences_open_is_not_a_tag() -> None:
    seed = seed_of(
        "Officials said the River Aire rose. Earlier, residents of Leeds were told to leave.",
        "Officials warned of rain. Speaking in Leeds, the mayor said: \"We are ready.\"",
        "Speaking later, officials said schools would close. Earlier floods hit Leeds too.")
    assert derive_tags(seed) == ("Leeds",)
    # A name opening every sentence it is in still counts once it appears inside a longer name,
    # and an acronym always counts.
    names = seed_of("Dunford spoke first. Gen. Joseph Dunford is the chairman.",
                    "Dunford said more. NATO agreed. NATO met.")
    assert derive_tags(names) == ("Dunford", "NATO")


def test_a_full_stop_after_a_title_acronym_or_initial_opens_no_sentence() -> None:
    # "Smith" is always right after "Mr.": still mid-sentence, so still a name.
    seed = seed_of("Mr. Smith resigned. Mr. Smith said he had done nothing wrong.",
                   "Dr. Patel said Mr. Smith would go. The vote in the U.S. Congress failed.",
                   "A U.S. Congress committee met. Congress adjourned. Dr. Patel left.")
    assert derive_tags(seed) == ("Smith", "Congress", "Patel", "U.S.")


def test_news_openers_before_a_name_are_trimmed() -> None:
    seed = seed_of("Earlier Leeds officials warned of rain. Later, Leeds was dry.",
                   "Speaking Tuesday, Hundreds of residents left. Earlier Leeds had flooded.")
    assert derive_tags(seed) == ("Leeds",)


def test_connectors_join_a_run_and_leading_stopwords_are_trimmed() -> None:
    seed = seed_of(
        "The Joint Chiefs of Staff met the Bank of the West.",
        "The Joint Chiefs of Staff left the Bank of the West.",
    )
    assert derive_tags(seed) == ("Joint Chiefs of Staff", "Bank of the West")


def test_possessive_and_acronym_forms_are_merged() -> None:
    seed = seed_of("NATO’s chief spoke.", "NATO's allies agreed.", "The US and the U.S. agree.")
    # "US" is not the stopword "Us"; of two equally frequent spellings the first is shown.
    assert derive_tags(seed) == ("NATO", "US")


def test_full_name_counts_for_the_surname() -> None:
    seed = seed_of(
        "General Joseph Dunford spoke.", "Dunford said no.", "Later, Dunford said yes.",
        "Mark Twain wrote.",
    )
    # "Dunford" alone twice, plus once through "General Joseph Dunford".
    assert derive_tags(seed) == ("Dunford",)


def test_surname_credit_needs_the_surname_to_recur_alone() -> None:
    seed = seed_of("The Islamic State fought.", "The Islamic State lost.", "The State said so.")
    assert derive_tags(seed) == ("Islamic State",)


def test_ties_keep_the_order_of_first_appearance() -> None:
    seed = seed_of("Paris and Berlin.", "Rome.", "Berlin and Paris and Rome.")
    assert derive_tags(seed) == ("Paris", "Berlin", "Rome")
    assert derive_tags(seed, max_tags=2) == ("Paris", "Berlin")


def test_most_frequent_spelling_is_shown() -> None:
    seed = seed_of("US troops.", "The U.S. army.", "The U.S. navy.")
    assert derive_tags(seed) == ("U.S.",)


def test_headline_and_standfirst_count() -> None:
    seed = seed_of("Libya is calm.", headline="Troops in Libya", standfirst="Libya talks")
    assert derive_tags(seed) == ("Libya",)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=5), st.integers(min_value=-2, max_value=8))
def test_tags_never_crash_and_respect_the_limit(paragraphs: list[str], max_tags: int) -> None:
    tags = derive_tags(seed_of(*paragraphs), max_tags=max_tags)
    assert len(tags) <= max(max_tags, 0)
    assert len(set(tags)) == len(tags)
    assert all(tag and tag == tag.strip() for tag in tags)


# --- section ---------------------------------------------------------------------------------

SECTIONS = (
    ("world", ("Libya", "NATO", "United Nations", "foreign")),
    ("politics", ("Congress", "election", "government")),
    ("military", ("troops", "military", "general", "Pentagon")),
)


def test_sample_section() -> None:
    # world: Libya 4 + NATO 2 + United Nations 1 = 7;
    # military: troops 2 + military 2 + general 2 = 6.
    assert pick_section(sample(), SECTIONS, "news") == "world"


def test_highest_score_wins() -> None:
    seed = seed_of("Congress met. The election is near. Troops stayed home.")
    assert pick_section(seed, SECTIONS, "news") == "politics"


def test_ties_go_to_the_first_section_in_config_order() -> None:
    seed = seed_of("Congress sent troops.")
    assert pick_section(seed, SECTIONS, "news") == "politics"
    assert pick_section(seed, tuple(reversed(SECTIONS)), "news") == "military"


def test_no_keyword_gives_the_default() -> None:
    assert pick_section(seed_of("Nothing matches here."), SECTIONS, "news") == "news"
    assert pick_section(seed_of("Libya"), (), "news") == "news"
    assert pick_section(seed_of("Libya"), (("world", ()),), "news") == "news"


def test_keywords_match_whole_words_case_insensitively() -> None:
    sections = (("war", ("war",)), ("awards", ("award", "awards")))
    assert pick_section(seed_of("The WAR ended."), sections, "news") == "war"
    # "war" inside "award" and "Warsaw" does not count.
    assert pick_section(seed_of("An award in Warsaw."), sections, "news") == "awards"


def test_multi_word_keywords_match_across_spacing() -> None:
    sections = (("world", ("united nations",)),)
    assert pick_section(seed_of("The United\tNations spoke."), sections, "news") == "world"


def test_keywords_with_regex_characters_are_literal() -> None:
    sections = (("tech", ("C++", "a.i.")),)
    assert pick_section(seed_of("It uses C++ and AXIS."), sections, "news") == "tech"
    assert pick_section(seed_of("aXiX"), sections, "news") == "news"


def test_a_bare_string_is_one_keyword() -> None:
    sections: tuple[tuple[str, str], ...] = (("world", "Libya"),)
    assert pick_section(seed_of("Libya."), sections, "news") == "world"
    assert pick_section(seed_of("a b y"), sections, "news") == "news"

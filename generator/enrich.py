"""Enrich stage: a `Seed` → its tags (recurring proper nouns) and its section (keyword score).

Pure and deterministic: the same seed always gives the same tags in the same order. Never reads
files or configuration itself and never changes the seed.

Tag rule: the headline, standfirst and body paragraphs are scanned for maximal runs of
capitalised words ("Islamic State", "NATO", "U.S."), which may contain up to two lowercase
connectors ("of", "the", "de", …) as in "Joint Chiefs of Staff"; a run stops at punctuation,
after a possessive ("Dunford’s" counts as "Dunford") and after an abbreviation's full stop.
Common capitalised words (sentence openers such as "The", "There", "According", and month and
weekday names, but never a word in capitals such as "US") are trimmed off both ends of a run.
Runs are counted ignoring case and full stops ("US" = "U.S."); a multi-word run also counts for
its last word when that word appears on its own at least twice ("General Joseph Dunford" counts
for "Dunford"). Runs counted at least twice are tags, most frequent first, ties in order of
first appearance, each shown in its most frequent spelling.

A single word (not an acronym) seen capitalised only where a sentence opens ("Officials said
…") is no name: a name is seen capitalised mid-sentence too, or ends a longer run ("Joseph
Dunford"). A full stop after a title, an acronym or an initial ("Mr. Smith", "U.S. Congress",
"John F. Kennedy") ends no sentence.

Only the first 200,000 characters (headline, standfirst, then body) are read for tags and section:
a wire story is a few thousand, and a multi-megabyte scrape must not cost seconds here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .seed import Seed

# An acronym with full stops ("U.S.", "U.N.") or a word with inner hyphens and apostrophes.
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_][\w'’\-]*")
_CONNECTORS = frozenset({"of", "the", "de", "del", "da", "di", "du", "la", "le", "van", "von"})
_MAX_CONNECTORS = 2
_APOSTROPHE = re.compile("['’]")
# Capitalised only because they open a sentence, or never names of their own.
_STOPWORDS = frozenset(
    word.casefold()
    for word in (
        "A", "An", "The", "He", "She", "It", "We", "They", "I", "You", "Us", "His", "Her", "Its",
        "Our", "Their", "My", "Your", "This", "That", "These", "Those", "There", "Here", "What",
        "When", "Where", "Which", "Who", "Whom", "Whose", "Why", "How", "If", "In", "On", "At",
        "By", "For", "From", "To", "Of", "With", "Without", "Into", "Over", "Under", "After",
        "Before", "During", "While", "Since", "Until", "As", "But", "And", "Or", "Nor", "So",
        "Yet", "Also", "Still", "Then", "Now", "Not", "No", "Yes", "Some", "Many", "Most", "More",
        "All", "Any", "Each", "Every", "Other", "Such", "Both", "Few", "One", "Two", "Three",
        "According", "Meanwhile", "However", "Although", "Though", "Because", "Despite",
        "Instead", "Last", "Next", "First", "Let", "Earlier", "Later", "Asked", "Speaking",
        "Elsewhere", "Separately", "Overall", "Previously", "Recently", "Indeed", "Finally",
        "Dozens", "Hundreds", "Thousands", "Millions", "Mr", "Mrs", "Ms", "Dr", "Is", "Was", "Are",
        "Were", "Be", "Been", "Has", "Have", "Had", "Do", "Does", "Did", "Will", "Would", "Can",
        "Could", "May", "Might", "Should", "Must", "Today", "Yesterday", "Tomorrow", "Monday",
        "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
        "March", "April", "June", "July", "August", "September", "October", "November",
        "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov",
        "Dec",
    )
)
# Quotes and brackets that may stand between a sentence's end and its first word.
_OPENING_MARKS = "\"“”‘’'(["
# Titles and the like whose full stop ends an abbreviation, not a sentence ("Mr. Smith said").
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "mx", "dr", "prof", "gen", "sen", "rep", "gov", "pres", "lt", "col",
    "capt", "cpt", "cmdr", "cdr", "sgt", "maj", "adm", "brig", "cpl", "pvt", "det", "insp",
    "supt", "rev", "fr", "hon", "st", "mt", "ft", "jr", "sr", "vs",
})
_MIN_COUNT = 2
_MAX_CHARS = 200_000


def derive_tags(seed: Seed, max_tags: int = 5) -> tuple[str, ...]:
    """Recurring proper nouns of `seed`, most frequent first (see the module docstring)."""
    runs = [found for text in _texts(seed) for found in _runs(text)]
    # Keys seen where no sentence opens; with acronyms and the last word of every longer run,
    # these are names. A lone word capitalised only where sentences open is an ordinary word,
    # however often it opens one.
    unopened = {_tag_key(" ".join(run)) for run, opens in runs if not opens}
    named = unopened | {_tag_key(run[-1]) for run, opens in runs
                        if len(run) > 1 or _is_acronym(run[0])}
    counts: dict[str, int] = {}  # insertion order = order of first appearance
    forms: dict[str, dict[str, int]] = {}  # key → surface form → count, in order of appearance
    for run, _ in runs:
        display = " ".join(run)
        key = _tag_key(display)
        if len(run) == 1 and key not in named:
            continue
        counts[key] = counts.get(key, 0) + 1
        spellings = forms.setdefault(key, {})
        spellings[display] = spellings.get(display, 0) + 1
    scores = dict(counts)
    for key, count in counts.items():
        last = key.rpartition(" ")[2]
        if last != key and counts.get(last, 0) >= _MIN_COUNT:
            scores[last] += count
    order = {key: position for position, key in enumerate(counts)}
    chosen = sorted((key for key, score in scores.items() if score >= _MIN_COUNT),
                    key=lambda key: (-scores[key], order[key]))
    # max() keeps the first of equally frequent spellings: dicts iterate in insertion order.
    return tuple(max(forms[key].items(), key=lambda item: item[1])[0]
                 for key in chosen[:max(max_tags, 0)])


def pick_section(seed: Seed, sections: Sequence[tuple[str, Sequence[str]]], default: str) -> str:
    """The section whose keywords occur most often as whole words; first listed wins ties."""
    text = "\n".join(_texts(seed))
    best, best_score = default, 0
    for name, keywords in sections:
        # A bare string is a Sequence[str] of letters; read it as one keyword instead.
        words = (keywords,) if isinstance(keywords, str) else keywords
        score = sum(_occurrences(keyword, text) for keyword in words)
        if score > best_score:
            best, best_score = name, score
    return best


def _texts(seed: Seed) -> tuple[str, ...]:
    texts, left = [], _MAX_CHARS
    for text in (seed.headline, seed.standfirst, *seed.paragraphs):
        if left <= 0:
            break
        if text:
            # Cut at a space, so the last word read is never half a word.
            cut = text if len(text) <= left else text[:left].rpartition(" ")[0]
            texts.append(cut)
            left -= len(text)
    return tuple(texts)


def _occurrences(keyword: str, text: str) -> int:
    parts = keyword.split()
    if not parts:
        return 0
    # Whole words only ("war" is not in "award"); inner spaces of a keyword match any spacing.
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(part) for part in parts) + r"(?!\w)"
    return sum(1 for _ in re.finditer(pattern, text, re.IGNORECASE))


def _tag_key(display: str) -> str:
    return display.casefold().replace(".", "")


def _runs(text: str) -> Iterator[tuple[tuple[str, ...], bool]]:
    """Maximal runs of capitalised words in `text`, trimmed of stopwords; each with whether
    its first word opens a sentence."""
    run: list[str] = []
    starts: list[int] = []  # where each word of the run starts in `text`
    pending: list[tuple[str, int]] = []  # connectors kept only if a capitalised word follows
    last_end = 0
    closed = False  # the last word ended the run (possessive or final full stop)
    for match in _TOKEN.finditer(text):
        token = match.group()
        if run and (closed or not text[last_end : match.start()].isspace()):
            yield from _trimmed(run, starts, text)
            run, starts, pending = [], [], []
        last_end = match.end()
        if token[0].isupper():
            word = _strip_possessive(token)
            run += [connector for connector, _ in pending] + [word]
            starts += [start for _, start in pending] + [match.start()]
            pending = []
            closed = word != token or token.endswith(".")
        elif run and token in _CONNECTORS and len(pending) < _MAX_CONNECTORS:
            pending.append((token, match.start()))
        elif run:
            yield from _trimmed(run, starts, text)
            run, starts, pending = [], [], []
    yield from _trimmed(run, starts, text)


def _opens_sentence(text: str, position: int) -> bool:
    """Whether the word at `position` is the first of a sentence (or of `text`)."""
    # Index arithmetic, not text[:position]: copying the text before every run would be
    # quadratic in a long paragraph. A dash or semicolon counts as a sentence's end too: a word
    # capitalised after one is as likely an opener ("Floods — Officials warn") as a name, and
    # a name is seen elsewhere.
    end = position
    while end > 0 and (text[end - 1].isspace() or text[end - 1] in _OPENING_MARKS):
        end -= 1
    if end == 0 or text[end - 1] in "!?:;—–-":
        return True
    if text[end - 1] != ".":
        return False
    # The word before the full stop, read from at most 11 characters: longer ones end a sentence.
    words = text[max(0, end - 12) : end - 1].split()
    word = words[-1].lstrip(_OPENING_MARKS) if words else ""
    return not (word.casefold() in _ABBREVIATIONS or "." in word
                or (len(word) == 1 and word.isupper()))


def _is_acronym(word: str) -> bool:
    return (len(word) > 1 and word.isupper()) or "." in word


def _strip_possessive(token: str) -> str:
    if token[-1] not in "s'’":
        return token  # the common case, decided without four endswith() calls
    for suffix in ("’s", "'s", "’", "'"):
        if token.endswith(suffix) and len(token) > len(suffix):
            return token[: -len(suffix)]
    return token


def _trimmed(run: list[str], starts: list[int],
             text: str) -> Iterator[tuple[tuple[str, ...], bool]]:
    start, end = 0, len(run)
    while start < end and _is_edge_junk(run[start]):
        start += 1
    while end > start and _is_edge_junk(run[end - 1]):
        end -= 1
    if start < end:
        yield tuple(run[start:end]), _opens_sentence(text, starts[start])


def _is_edge_junk(word: str) -> bool:
    if len(word) > 1 and word.isupper():
        return False  # an acronym: "US" is not "Us", "IT" is not "It"
    # "We’re" and "There’s" are stopwords with a contraction attached.
    stem = _APOSTROPHE.split(word, maxsplit=1)[0]
    return stem.casefold() in _STOPWORDS or not word[0].isupper()

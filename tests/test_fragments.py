"""The {% cache %} tag (fragments.py): one render per key, reads replayed, never a wrong reuse."""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
import pytest

from generator.fragments import FragmentCacheExtension, FragmentStore


@dataclass
class Story:
    title: str
    renders: list[str] = field(default_factory=list)


def environment(templates: dict[str, str], reads: set[str]) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.DictLoader(templates), autoescape=True,
                             undefined=jinja2.StrictUndefined,
                             extensions=[FragmentCacheExtension])

    def shown(story: Story) -> str:  # stands for the work a card does, and counts it
        story.renders.append(story.title)
        return story.title

    def read_body(key: str) -> str:  # stands for ArticleView.html: notes a read in full
        reads.add(key)
        return f"<{key}>"

    env.globals.update(shown=shown, read_body=read_body)
    env.fragment_store = FragmentStore(reads)  # type: ignore[attr-defined]
    return env


CARD = ('{% macro card(item, level) %}{% cache item, level %}<h{{ level }}>{{ shown(item) }}'
        '</h{{ level }}>{% endcache %}{% endmacro %}')


def test_a_fragment_renders_once_per_key_and_is_reused_verbatim() -> None:
    env = environment({"card.html": CARD, "page.html":
                       '{% from "card.html" import card %}{{ card(a, 2) }}{{ card(b, 2) }}'
                       '{{ card(a, 2) }}{{ card(a, 3) }}'}, set())
    a, b = Story("A & co"), Story("B")
    html = env.get_template("page.html").render(a=a, b=b)
    assert html == "<h2>A &amp; co</h2><h2>B</h2><h2>A &amp; co</h2><h3>A &amp; co</h3>"
    assert a.renders == ["A & co", "A & co"]  # once for level 2, once for level 3
    assert b.renders == ["B"]
    env.get_template("page.html").render(a=a, b=b)  # a later page: all reused
    assert a.renders == ["A & co", "A & co"] and b.renders == ["B"]


def test_objects_are_keys_by_identity_and_plain_values_by_value() -> None:
    env = environment({"page.html": "{% cache item, n %}{{ shown(item) }}{% endcache %}"}, set())
    first, twin = Story("same"), Story("same")  # equal, but a new view (made after an edit)
    page = env.get_template("page.html")
    page.render(item=first, n=1)
    page.render(item=twin, n=1)
    page.render(item=first, n=int("1"))  # another int object, equal: the same key
    assert first.renders == ["same"] and twin.renders == ["same"]


@pytest.mark.parametrize(("one", "other"), [(1, 1.0), (1, True), (0.0, -0.0), ("1", 1)])
def test_equal_values_that_print_differently_are_different_keys(one: object,
                                                                 other: object) -> None:
    # 1 == 1.0 == True and 0.0 == -0.0 in Python, but a fragment shows "1", "1.0", "True".
    env = environment({"page.html": "{% cache n %}{{ n }}{% endcache %}"}, set())
    page = env.get_template("page.html")
    assert page.render(n=one) == str(one)
    assert page.render(n=other) == str(other)


def test_two_cache_tags_with_equal_keys_do_not_share() -> None:
    env = environment({"page.html": "{% cache k %}one{% endcache %}|{% cache k %}two{% endcache %}"},
                      set())
    assert env.get_template("page.html").render(k="x") == "one|two"


def test_reads_in_full_are_replayed_on_every_reuse() -> None:
    reads: set[str] = set()
    env = environment({"page.html": "[{{ read_body(mine) }}]{% cache k %}[{{ read_body(k) }}]"
                       "{% endcache %}"}, reads)
    page = env.get_template("page.html")
    assert page.render(mine="own", k="story") == "[&lt;own&gt;][&lt;story&gt;]"
    assert reads == {"own", "story"}
    reads.clear()  # the next page (Renderer.render clears the set per page)
    assert page.render(mine="other", k="story") == "[&lt;other&gt;][&lt;story&gt;]"
    assert reads == {"other", "story"}  # read_body(k) did not run, but its read is noted


def test_a_failing_fragment_is_not_kept_and_the_page_reads_survive() -> None:
    reads: set[str] = set()
    env = environment({"page.html": "{{ read_body('own') }}{% cache k %}{{ read_body(k) }}"
                       "{{ 1 // n }}{% endcache %}"}, reads)
    with pytest.raises(ZeroDivisionError):
        env.get_template("page.html").render(k="story", n=0)
    assert reads == {"own", "story"}
    assert env.get_template("page.html").render(k="story", n=1) == "&lt;own&gt;&lt;story&gt;1"


def test_without_a_store_every_call_renders() -> None:
    env = environment({"page.html": "{% cache item %}{{ shown(item) }}{% endcache %}"}, set())
    env.fragment_store = None  # type: ignore[attr-defined]
    story = Story("s")
    env.get_template("page.html").render(item=story)
    env.get_template("page.html").render(item=story)
    assert story.renders == ["s", "s"]


def test_a_cache_tag_without_a_key_is_a_syntax_error_with_its_line() -> None:
    env = environment({"page.html": "line one\n{% cache %}x{% endcache %}"}, set())
    with pytest.raises(jinja2.TemplateSyntaxError) as err:
        env.get_template("page.html")
    assert err.value.lineno == 2


@pytest.mark.parametrize("name", ["caller", "varargs", "kwargs"])
def test_the_enclosing_macros_call_names_are_refused_inside_the_body(name: str) -> None:
    # In the tag's body these would be its own call block's, not the macro's: refused, with
    # the line, rather than rendering something else than the same layout without the tag.
    source = ("{% macro m() %}\n{% cache 1 %}\n{{ " + name + " }}\n{% endcache %}{% endmacro %}")
    env = environment({"page.html": source}, set())
    with pytest.raises(jinja2.TemplateSyntaxError) as err:
        env.get_template("page.html")
    assert err.value.lineno == 3 and name in err.value.message


def test_templates_made_from_strings_do_not_share_fragments() -> None:
    env = environment({}, set())
    assert env.from_string("{% cache 1 %}A{% endcache %}").render() == "A"
    assert env.from_string("{% cache 1 %}B{% endcache %}").render() == "B"

"""The book's sources, without a build: each chapter and its exercise notebook promise the same
time, and the theme templates the book mends stay the pinned theme's own except for the stated
repairs (so a theme upgrade cannot silently revert or break them)."""
import difflib
import json
import re
from pathlib import Path

import pydata_sphinx_theme
import pytest

ROOT = Path(__file__).resolve().parent.parent
THEME = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
CHAPTERS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())


def exercise_time(chapter: str) -> str:
    notebook = json.loads((ROOT / "solutions" / chapter / f"{chapter}.ipynb").read_text())
    intro = "".join(notebook["cells"][0]["source"]) + "".join(notebook["cells"][1]["source"])
    return re.search(r"Time: (about [^.]+)\.", intro).group(1)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_and_its_exercise_give_the_same_time(chapter):
    text = " ".join((ROOT / "book" / f"{chapter}.md").read_text().split())
    promised = re.search(r"\*\*Time\*\*: [^*]*?plus (about [^,.]+?) for the graded exercise", text)
    assert promised, f"book/{chapter}.md has no '**Time**: ... plus about ... for the graded exercise'"
    assert promised.group(1) == exercise_time(chapter), (
        f"book/{chapter}.md says {promised.group(1)!r} for the exercise, its notebook {exercise_time(chapter)!r}")


def template_lines(path: Path) -> list[str]:
    """A Jinja template's lines without its comments."""
    return re.sub(r"\{#.*?#\}\n?", "", path.read_text(), flags=re.S).splitlines()


def changed_lines(ours: Path, theirs: Path) -> tuple[list[str], list[str]]:
    """(lines only the theme has, lines only our override has), comments aside."""
    diff = list(difflib.ndiff(template_lines(theirs), template_lines(ours)))
    return ([d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")])


def test_the_header_override_only_drops_the_hidden_sidebar_toggles():
    removed, added = changed_lines(ROOT / "book/_templates/sections/header.html", THEME / "sections/header.html")
    assert not added
    assert sum("sidebar-toggle" in line for line in removed) == 2
    assert all(re.search(r"sidebar-toggle|fa-bars|fa-outdent|</button>|secondary_sidebar_items|endif", line)
               for line in removed), removed


def test_the_search_field_override_only_drops_its_aria_label():
    removed, added = changed_lines(ROOT / "book/_templates/search-button-field.html",
                                   THEME / "components/search-button-field.html")
    assert len(removed) == len(added) == 1
    assert removed[0].replace(" aria-label=\"{{ _('Search') }}\"", "") == added[0]


def test_the_colour_mode_override_only_hides_its_icons():
    removed, added = changed_lines(ROOT / "book/_templates/theme-switcher.html",
                                   THEME / "components/theme-switcher.html")
    assert len(removed) == len(added) == 3
    assert [line.replace('<i class=', '<i aria-hidden="true" class=') for line in removed] == added


def test_the_asset_override_only_drops_the_fontawesome_script():
    removed, added = changed_lines(ROOT / "book/_templates/static/webpack-macros.html",
                                   THEME / "static/webpack-macros.html")
    assert not added
    assert len(removed) == 2 and "fontawesome.js" in removed[1], removed

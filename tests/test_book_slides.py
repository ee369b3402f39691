"""Every chapter's slide deck (book/_ext/slides.py): made from the chapter, offline, linked.

The rules are checked on small notebooks without a build; the decks of the built book are
checked in their HTML, and one is opened in the browser.
"""
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup

from book_support import ROOT, TOC_PAGES, site, visit  # noqa: F401 (fixtures)

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from slides import _blocks, deck  # noqa: E402 (the book's extension folder)

CHAPTERS = [p for p in TOC_PAGES if (ROOT / "solutions" / p).is_dir()]


def slide_types(slides):
    return [(c.metadata["slideshow"]["slide_type"], c.source.splitlines()[0] if c.source else "<figure>")
            for c in slides.cells]


CHAPTER = """# Mixtures

```{admonition} About this chapter
:class: tip

**After working through it you should be able to**

- write the likelihood of a mixture;
- fit it with EM.

**Time**: 3 hours.
```

## Why mixtures?

A catalogue holds stars and galaxies.

More prose for the speaker, citing {cite:t}`roeder1990`.

$$
p(x) = \\sum_k \\pi_k \\mathcal{N}(x \\mid \\mu_k, \\sigma_k^2)
$$

```{exercise}
:label: ex-left-out
Not on a slide.
```

## References

```{bibliography}
```
"""


def test_the_rules_make_a_title_slide_a_section_slide_notes_an_equation_and_a_figure():
    figure = nbformat.v4.new_code_cell("plt.plot()", metadata={"mystnb": {
        "figure": {"caption": "The fit."}, "image": {"alt": "A curve over a histogram."}}})
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    printing = nbformat.v4.new_code_cell("print(1)")
    printing.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    head, tail = CHAPTER.split("## References")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(head), printing, figure,
                                               nbformat.v4.new_markdown_cell("## References" + tail)])
    slides = deck(notebook, roles=lambda text: text.replace("{cite:t}`roeder1990`", "Roeder 1990"))
    assert slide_types(slides) == [
        ("slide", "# Mixtures"), ("-", "- write the likelihood of a mixture;"),
        ("slide", "## Why mixtures?"), ("-", "A catalogue holds stars and galaxies."),
        ("notes", "More prose for the speaker, citing Roeder 1990."),
        ("subslide", "#### Why mixtures?"),                # the equation
        ("subslide", "#### Why mixtures?"), ("-", "<figure>"), ("-", "The fit."),
    ]
    assert slides.cells[1].source == "- write the likelihood of a mixture;\n- fit it with EM."
    assert "\\mathcal{N}(x \\mid \\mu_k" in slides.cells[5].source
    assert slides.cells[7].outputs[0].data == {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    assert slides.cells[7].metadata["alt"] == "A curve over a histogram."


def test_blocks_keep_a_directive_with_its_body_and_a_one_line_equation_whole():
    text = "Intro line\nsecond line\n\n$$ a = b $$\n\n````{solution} ex-1\n```python\nx = 1\n```\n````\n### Sub"
    assert list(_blocks(text)) == [("text", "Intro line\nsecond line"), ("math", "$$ a = b $$"),
                                   ("directive", "solution", "```python\nx = 1\n```"), ("heading", 3, "Sub")]


@pytest.mark.book
@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_links_its_deck_which_loads_nothing_from_outside(built_book, name):
    page = BeautifulSoup((built_book / "html" / f"{name}.html").read_text(), "html.parser")
    links = [a["href"] for a in page.select(".dropdown-download-buttons a[href]") if "slides/" in a["href"]]
    assert links == [f"slides/{name}.html"]
    slides = BeautifulSoup((built_book / "html" / "slides" / f"{name}.html").read_text(), "html.parser")
    outside = [tag.get("src") or tag.get("href") for tag in slides.select("script[src], link[href]")
               if not (tag.get("src") or tag.get("href")).startswith("../_static/")]
    assert outside == [], f"{name}'s deck loads {outside}"
    assert len(slides.select("section")) >= 10, f"{name}'s deck has fewer than 10 slides"
    images = slides.select("section img")
    assert images and all(len(img.get("alt", "")) > 20 for img in images), f"{name}: a figure without alt text"


@pytest.mark.book
@pytest.mark.browser
def test_a_deck_shows_typeset_maths_and_a_figure_in_the_browser(visit, site):
    page = visit.page
    page.goto(site + "slides/gaussian-processes.html", wait_until="load")
    page.wait_for_function("document.body.dataset.mathsTypeset === 'yes'")
    assert page.evaluate("Reveal.getTotalSlides()") >= 10
    assert page.evaluate("document.querySelectorAll('.reveal mjx-container').length") > 10
    assert not page.evaluate("document.querySelectorAll('mjx-merror').length")
    page.evaluate("""() => Reveal.slide(...Object.values(Reveal.getIndices(
        document.querySelector('.reveal .slides img').closest('section'))))""")
    page.wait_for_timeout(500)
    shown = page.evaluate("""() => { const img = document.querySelector('section.present img');
        return img && img.complete ? [img.naturalWidth, img.getBoundingClientRect().width] : null; }""")
    assert shown and shown[0] > 100 and shown[1] > 100, shown
    page.keyboard.press("ArrowRight")
    assert (visit.errors, visit.blocked, visit.failed) == ([], [], [])

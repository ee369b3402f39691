"""Live-coding notebooks (live-coding/<chapter>.ipynb, book/_tools/live_notebooks.py):
generated from the chapters, in sync, and complete once the instructor's code is typed in."""
import subprocess
import sys

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from book_support import ROOT

sys.path.insert(0, str(ROOT / "book" / "_tools"))
import live_notebooks  # noqa: E402 (the book's tools folder)

CHAPTERS = live_notebooks.chapters()


def filled(chapter: str) -> nbformat.NotebookNode:
    """The committed live notebook with every empty cell typed in from the chapter."""
    notebook = nbformat.read(live_notebooks.FOLDER / f"{chapter}.ipynb", as_version=4)
    by_id = {c.id: c.source for c in live_notebooks.chapter_notebook(chapter).cells}
    for cell in notebook.cells:
        if cell.metadata.get("live_coding"):
            cell.source = by_id[cell.id]
    return notebook


def test_the_live_notebooks_are_in_sync_with_their_chapters():
    result = subprocess.run([sys.executable, str(ROOT / "book/_tools/live_notebooks.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_typing_in_the_empty_cells_gives_back_every_line_of_the_chapters_code(chapter):
    """So the live notebook, filled, runs as the chapter ran when the book was built."""
    live = nbformat.read(live_notebooks.FOLDER / f"{chapter}.ipynb", as_version=4)
    empty = [c for c in live.cells if c.metadata.get("live_coding")]
    assert empty and all(c.source.startswith("# Live coding: write ") for c in empty)
    chapter_code = [c.source for c in jupytext.read(ROOT / "book" / f"{chapter}.md", fmt="md:myst").cells
                    if c.cell_type == "code"]
    assert [c.source for c in filled(chapter).cells if c.cell_type == "code"] == chapter_code
    assert all(not c.outputs for c in live.cells if c.cell_type == "code")


def test_a_filled_live_notebook_runs_top_to_bottom_in_a_real_kernel():
    notebook = filled("pgm")    # the quickest chapter (about 5 s)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute(stderr=subprocess.DEVNULL)
    assert any(o.get("output_type") == "display_data" for c in notebook.cells for o in c.get("outputs", []))


def test_the_rule_empties_definitions_keeps_the_rest_and_obeys_the_tags():
    cell = nbformat.v4.new_code_cell
    assert live_notebooks.is_live(cell("import numpy as np\ndef e_step(x):\n    return x"))
    assert not live_notebooks.is_live(cell("x = e_step(data)\nplt.plot(x)"))
    assert not live_notebooks.is_live(cell("%timeit e_step(x)"))             # a magic: not parsed, kept
    assert not live_notebooks.is_live(cell("def helper(): pass", metadata={"tags": ["live-keep"]}))
    assert not live_notebooks.is_live(cell("def hidden(): pass", metadata={"tags": ["remove-cell"]}))
    assert live_notebooks.is_live(cell("fit = model.fit(x)", metadata={"tags": ["live-code"]}))
    assert live_notebooks.placeholder(cell("def a(): pass\nclass B: pass")) == \
        "# Live coding: write `a`, `B` here (the chapter has it, in this section)\n"

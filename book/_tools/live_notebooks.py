"""Live-coding notebooks: each chapter with the code the instructor types in class left empty.

``live-coding/<chapter>.ipynb`` is generated from ``book/<chapter>.md`` and never edited by
hand: run ``python book/_tools/live_notebooks.py`` after changing a chapter (``--check`` only
reports which are out of date; tests/test_live_notebooks.py runs it). The rule, the same for
every chapter:

- a code cell that defines a function or a class at its top level is what the instructor
  writes in front of the class: it is emptied, leaving a comment that names what to write;
- every other cell (prose, imports, data loading, plots, glue) is kept as it is, so the
  notebook runs once the empty cells are typed in;
- the cell tag ``live-keep`` keeps a cell that defines functions (a plotting helper), the tag
  ``live-code`` empties one that does not, and cells hidden in the book (``remove-cell``,
  ``remove-input``) are kept: nobody types what the reader never sees.

Cell ids are derived from each cell's source, so they stay the same when other cells change.
"""
import argparse
import ast
import hashlib
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "live-coding"
HIDDEN_TAGS = {"remove-cell", "remove-input", "live-keep"}


def chapters() -> list[str]:
    """The chapters that have a graded exercise (solutions/<chapter>/)."""
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if (ROOT / "book" / f"{p.name}.md").is_file())


def defined_names(source: str) -> list[str]:
    """Functions and classes a cell defines at its top level ([] if it is not plain Python)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:   # IPython magics or shell escapes
        return []
    return [node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def is_live(cell) -> bool:
    tags = set(cell.metadata.get("tags", []))
    return cell.cell_type == "code" and not tags & HIDDEN_TAGS and (
        "live-code" in tags or bool(defined_names(cell.source)))


def placeholder(cell) -> str:
    names = defined_names(cell.source)
    what = ", ".join(f"`{n}`" for n in names) if names else "this step"
    return f"# Live coding: write {what} here (the chapter has it, in this section)\n"


def chapter_notebook(chapter: str) -> nbformat.NotebookNode:
    """The chapter as jupytext reads it, each cell's id taken from its source (the n-th cell
    with the same source gets the suffix -n)."""
    notebook = jupytext.read(ROOT / "book" / f"{chapter}.md", fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    seen = {}
    for cell in notebook.cells:
        digest = hashlib.sha1(cell.source.encode()).hexdigest()[:10]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = f"{digest}-{seen[digest]}"
    return notebook


def live_notebook(chapter: str) -> nbformat.NotebookNode:
    notebook = chapter_notebook(chapter)
    for cell in notebook.cells:
        if is_live(cell):
            cell.metadata["live_coding"] = True   # tests fill these from the chapter
            cell.source = placeholder(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(notebook)
    return notebook


def text(notebook) -> str:
    return nbformat.writes(notebook) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for chapter in chapters():
        path = FOLDER / f"{chapter}.ipynb"
        wanted = text(live_notebook(chapter))
        if not path.is_file() or path.read_text(encoding="utf-8") != wanted:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                FOLDER.mkdir(exist_ok=True)
                path.write_text(wanted, encoding="utf-8")
    for path in stale:
        print(f"{path}: {'out of date (run python book/_tools/live_notebooks.py)' if args.check else 'written'}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())

"""The reference solution of the notebooks exercise agrees with the tools the field uses.

- ``strip_for_git`` leaves what the ``nbstripout`` command leaves (outputs, counts and editor
  metadata gone; ids, tags and nbgrader's metadata kept);
- ``execution_report`` reads the counts a real kernel writes: fresh after running top to bottom
  with nbclient, out of order after running a lower cell first;
- ``defined_below_use`` flags exactly the name that makes nbclient's top-to-bottom run fail with
  a NameError, and nothing once the cells are reordered;
- ``to_module`` gives the functions importnb's definitions-only import gives, without running the
  analysis;
- ``to_percent`` writes scripts that jupytext reads back cell for cell, and ``from_percent``
  reads the scripts jupytext writes, for every chapter of this book;
- ``merge_by_id`` takes the same decisions as nbdime's three-way merge where cells are edited
  as a whole: the same merged sources, and conflicts on the same cells;
- ``fixes_before_sharing`` finds nothing to fix in any notebook this course stores in git.
"""
import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from importnb import Notebook
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbdime.merging import merge_notebooks

ASSIGNMENT = "notebooks"   # the `ref` fixture (conftest.py) runs its reference solution
ROOT = Path(__file__).resolve().parents[1]
NBSTRIPOUT = Path(sys.executable).with_name("nbstripout")


def as_node(nb: dict) -> nbformat.NotebookNode:
    return nbformat.from_dict(copy.deepcopy(nb))


def cells_of(nb) -> list[tuple[str, str]]:
    return [(c["cell_type"], c["source"] if isinstance(c["source"], str) else "".join(c["source"]))
            for c in nb["cells"]]


def run_cells(nb: nbformat.NotebookNode, order: list[int]) -> nbformat.NotebookNode:
    """Runs the cells of ``nb`` in a real kernel, in the given order (indices)."""
    client = NotebookClient(nb, kernel_name="python3", timeout=60)
    with client.setup_kernel():
        for index in order:
            client.execute_cell(nb.cells[index], index)
    return nb


# --- Q1: stripping ------------------------------------------------------------------------------

def test_strip_for_git_leaves_what_nbstripout_leaves(ref, tmp_path):
    """With ``--keep-id``: by default nbstripout replaces cell ids by 0, 1, ..., which would
    defeat merging by id (Q6)."""
    nb = ref["period_search"]()
    nb["cells"][1]["metadata"] = {"ExecuteTime": {"start": "2026-01-01"}, "tags": ["setup"]}
    nb["cells"][4]["metadata"] = {"nbgrader": {"grade_id": "q1", "locked": True}, "collapsed": True}
    path = tmp_path / "period.ipynb"
    nbformat.write(as_node(nb), path)
    subprocess.run([str(NBSTRIPOUT), "--keep-id", str(path)], check=True)   # by default it renumbers ids
    stripped_by_tool = json.loads(path.read_text())
    ours = ref["strip_for_git"](nb)
    assert [c.get("outputs") for c in ours["cells"]] == [c.get("outputs") for c in stripped_by_tool["cells"]]
    assert [c.get("execution_count") for c in ours["cells"]] == \
        [c.get("execution_count") for c in stripped_by_tool["cells"]]
    assert [c["metadata"] for c in ours["cells"]] == [c["metadata"] for c in stripped_by_tool["cells"]]
    assert [c["id"] for c in ours["cells"]] == [c["id"] for c in stripped_by_tool["cells"]]
    assert cells_of(ours) == cells_of(stripped_by_tool)


# --- Q2 and Q3: execution order -----------------------------------------------------------------

def test_a_top_to_bottom_run_is_fresh_and_a_rerun_is_not(ref):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in ("a = 1", "b = a + 1", "c = b * 2")])
    fresh = run_cells(nb, [0, 1, 2])
    assert ref["execution_report"](fresh) == {"out_of_order": [], "not_run": [], "fresh": True}
    rerun = run_cells(copy.deepcopy(fresh), [0, 1, 2, 1])      # a cell run twice leaves a gap
    report = ref["execution_report"](rerun)
    assert report["out_of_order"] == [rerun.cells[2].id] and report["fresh"] is False


def test_running_a_lower_cell_first_is_out_of_order(ref):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in ("x = 2", "y = x ** 2", "z = 3")])
    ran = run_cells(nb, [0, 2, 1])
    assert [c.execution_count for c in ran.cells] == [1, 3, 2]
    assert ref["execution_report"](ran)["out_of_order"] == [ran.cells[2].id]


def test_the_name_defined_below_is_the_one_a_restart_fails_on(ref):
    nb = as_node(ref["strip_for_git"](ref["period_search"]()))
    assert ref["defined_below_use"](nb) == {"search": ["dispersion", "periods"]}
    with pytest.raises(CellExecutionError) as failure:
        NotebookClient(nb, kernel_name="python3", timeout=60).execute()
    assert failure.value.ename == "NameError" and "'periods'" in failure.value.evalue

    cells = {c.id: c for c in nb.cells}
    order = ["title", "imports", "data", "fold", "grid", "search", "summary"]
    fixed = nbformat.v4.new_notebook(cells=[cells[i] for i in order], metadata=nb.metadata)
    assert ref["defined_below_use"](fixed) == {}
    NotebookClient(fixed, kernel_name="python3", timeout=60).execute()
    assert "0.570" in fixed.cells[order.index("search")].outputs[0]["text"]


# --- Q4: notebook to module ---------------------------------------------------------------------

def test_to_module_matches_importnbs_definitions_and_runs_no_analysis(ref, tmp_path, monkeypatch):
    nb = ref["notebook"](
        ref["code"]("import math\nfrom functools import lru_cache", "imports"),
        ref["code"]("def magnitude(flux, zero_point=25.0):\n    return zero_point - 2.5 * math.log10(flux)", "mag"),
        ref["code"]("print('the analysis ran')\nraise SystemExit('the slow fit')", "analysis"),
        ref["code"]("@lru_cache(maxsize=None)\ndef distance_modulus(parsec):\n    return 5 * math.log10(parsec / 10)",
                    "dm"),
    )
    nbformat.write(as_node(nb), tmp_path / "photometry.ipynb")
    (tmp_path / "photometry_module.py").write_text(ref["to_module"](nb))
    monkeypatch.syspath_prepend(str(tmp_path))
    with Notebook(include_non_defs=False):
        from_importnb = importlib.import_module("photometry")
    spec = importlib.util.spec_from_file_location("photometry_module", tmp_path / "photometry_module.py")
    ours = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ours)
    public = lambda module: {n for n in vars(module) if not n.startswith("_")}
    from_importnb_public = public(from_importnb) - {"get_ipython"}   # importnb adds IPython's accessor
    assert public(ours) == from_importnb_public == {"math", "lru_cache", "magnitude", "distance_modulus"}
    for flux in (1.0, 100.0, 3.7):
        assert ours.magnitude(flux) == from_importnb.magnitude(flux)
    assert ours.distance_modulus(1000.0) == from_importnb.distance_modulus(1000.0) == pytest.approx(10.0)
    assert ours.distance_modulus.cache_info().currsize == 1        # the decorator came along


# --- Q5: percent scripts ------------------------------------------------------------------------

CHAPTERS = sorted((ROOT / "book").glob("*.md"))


def plain(nb) -> list[tuple[str, str]]:
    """Code and markdown cells only (the exercise's format has no raw cells)."""
    return [(kind, source) for kind, source in cells_of(nb) if kind in ("code", "markdown")]


@pytest.mark.parametrize("chapter", [p for p in CHAPTERS if p.read_text().startswith("---\njupytext")],
                         ids=lambda p: p.stem)
def test_percent_scripts_round_trip_through_jupytext(ref, chapter):
    nb = jupytext.read(chapter)
    nb.cells = [c for c in nb.cells if c.cell_type in ("code", "markdown") and not c.source.endswith("\n")
                and not any(line.lstrip().startswith(("%", "!", "#!")) for line in c.source.split("\n"))]
    assert len(nb.cells) > 20
    ours = ref["to_percent"](nb)
    assert plain(jupytext.reads(ours, fmt="py:percent")) == plain(nb), "jupytext reads our script"
    assert plain(ref["from_percent"](jupytext.writes(nb, fmt="py:percent"))) == plain(nb), "we read jupytext's"


# --- Q6: three-way merges -----------------------------------------------------------------------

def merge_cases(ref):
    """(name, base, ours, theirs) for edits that replace, add or delete whole cells."""
    code, markdown, notebook = ref["code"], ref["markdown"], ref["notebook"]
    base = notebook(markdown("# Fit", "t"), code("a = 1", "a"), code("b = 2", "b"), code("c = 3", "c"),
                    code("d = 4", "d"))

    def edit(**changes):
        nb = copy.deepcopy(base)
        for cell in nb["cells"]:
            if cell["id"] in changes:
                cell["source"] = changes[cell["id"]]
        return nb

    def without(nb, cell_id):
        nb = copy.deepcopy(nb)
        nb["cells"] = [c for c in nb["cells"] if c["id"] != cell_id]
        return nb

    def appended(nb, cell):
        nb = copy.deepcopy(nb)
        nb["cells"].append(cell)
        return nb

    return [
        ("different-cells", base, edit(a="a = 10"), edit(c="c = 30")),
        ("same-cell-differently", base, edit(b="b = 20"), edit(b="b = 21")),
        ("same-edit-both-sides", base, edit(b="b = 20"), edit(b="b = 20")),
        ("delete-and-edit-elsewhere", base, without(base, "b"), edit(d="d = 40")),
        ("delete-against-edit", base, without(base, "c"), edit(c="c = 30")),
        ("append-on-one-side", base, edit(a="a = 10"), appended(base, code("e = 5", "e"))),
        ("two-conflicts", base, edit(a="a = 11", d="d = 41"), edit(a="a = 12", d="d = 42")),
    ]


def nbdime_conflicts(base, decisions) -> list[str]:
    """The base cell ids on which nbdime's decisions conflict."""
    ids = [c["id"] for c in base["cells"]]
    return sorted({ids[d.common_path[1]] for d in decisions
                   if d.conflict and len(d.common_path) >= 2 and d.common_path[0] == "cells"})


@pytest.mark.parametrize("case", range(7))
def test_merge_by_id_decides_as_nbdime_does(ref, case):
    name, base, ours, theirs = merge_cases(ref)[case]
    merged, conflicts = ref["merge_by_id"](base, ours, theirs)
    by_nbdime, decisions = merge_notebooks(as_node(base), as_node(ours), as_node(theirs))
    assert conflicts == nbdime_conflicts(base, decisions), name
    if not conflicts:
        assert cells_of(merged) == cells_of(by_nbdime), name


def hidden_merge_case(ref):
    """The three notebooks of Q6's hidden probes, built by the probe code itself."""
    from autograder.course import Assignment
    from autograder.notebook import grade_id, read_notebook

    test_cell = next(c for c in read_notebook(Assignment(ASSIGNMENT).source).cells if grade_id(c) == "q6")
    hidden = test_cell.source.split("### BEGIN HIDDEN TESTS")[1].split("_saved =")[0]
    namespace = dict(ref)
    exec(hidden, namespace)
    return namespace["_b"], namespace["_o"], namespace["_t"]


def test_the_hidden_merge_case_agrees_with_nbdime(ref):
    """Insertions on both sides, a cell moved to the top, an edit against a deletion and two
    different cells added at the end: nbdime conflicts where we do and merges the rest alike."""
    base, ours, theirs = hidden_merge_case(ref)
    merged, conflicts = ref["merge_by_id"](base, ours, theirs)
    by_nbdime, decisions = merge_notebooks(as_node(base), as_node(ours), as_node(theirs))
    assert conflicts == ["both", "c"]
    assert nbdime_conflicts(base, decisions) == ["c"]                      # edited against deleted
    assert any(d.conflict and tuple(d.common_path) == ("cells",) for d in decisions)   # two additions at the end
    in_conflict = {ref["text"](c) for nb in (ours, theirs) for c in nb["cells"] if c["id"] in conflicts}
    assert [s for _, s in cells_of(merged) if s not in in_conflict] == \
        [s for _, s in cells_of(by_nbdime) if s not in in_conflict and "<<<<<<<" not in s]


def test_nbdime_merges_lines_within_a_cell_where_we_report_a_conflict(ref):
    """The one difference the chapter points out: nbdime diffs a cell's lines, merge_by_id does not."""
    code, notebook = ref["code"], ref["notebook"]
    base = notebook(code("x = 1\ny = 2\nz = 3", "c"))
    ours, theirs = notebook(code("x = 10\ny = 2\nz = 3", "c")), notebook(code("x = 1\ny = 2\nz = 30", "c"))
    by_nbdime, decisions = merge_notebooks(as_node(base), as_node(ours), as_node(theirs))
    assert not any(d.conflict for d in decisions)
    assert cells_of(by_nbdime) == [("code", "x = 10\ny = 2\nz = 30")]
    assert ref["merge_by_id"](base, ours, theirs)[1] == ["c"]


# --- Q7: what to fix ----------------------------------------------------------------------------

def review(ref, nb) -> list[str]:
    """The exercise's whole pipeline on one notebook."""
    import ast

    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    stored = any(c.get("outputs") or c.get("execution_count") is not None for c in code_cells)
    paths = [node.value for c in code_cells if (source := ref["cell_code"](c)) is not None
             for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and ref["ABSOLUTE_PATH"].match(node.value)]
    return ref["fixes_before_sharing"](ref["execution_report"](nb), ref["defined_below_use"](nb), stored, paths)


COURSE_NOTEBOOKS = [p for p in sorted(ROOT.glob("solutions/*/*.ipynb")) + sorted(ROOT.glob("exercises/*/*.ipynb"))
                    if p.stem != ASSIGNMENT]   # this exercise's own probes hold absolute paths as test data


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_the_course_notebooks_need_no_fixes(ref, path):
    assert review(ref, json.loads(path.read_text())) == []


def test_the_running_example_needs_reordering_a_rerun_and_stripping(ref):
    nb = ref["period_search"]()
    assert review(ref, nb) == ["reorder-cells", "restart-and-run-all", "strip-outputs"]
    nb["cells"][2]["source"] += "\nraw = open('/home/ada/lightcurves/rrlyr.csv')"
    assert review(ref, nb)[0] == "relative-paths"

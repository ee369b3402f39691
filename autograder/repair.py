"""Repairing the small format faults of a notebook, as nbformat and JupyterLab tolerate them.

A notebook is graded on what can be read of it. Each repair is one small named step (in the
manner of nbgrader's preprocessors) that fixes one kind of fault and returns a note made of
fixed text only, never text from the notebook; the notes of cell steps are gathered with the
positions of the cells they touched. Where nbformat has the repair, it is nbformat's:
``nbformat.convert`` for old formats, ``nbformat.v4.upgrade`` for old minor versions, and
``nbformat.validator.normalize`` for missing or duplicated cell ids and metadata that does
not follow the schema. A cell that cannot be repaired (not an object, an unknown type, a
source that is not text, or still not valid after every repair) is replaced by an empty raw
cell: it costs only what depended on it, and the other cells keep their positions. Only a
notebook that has cells but none that can be read, or an old format that nbformat cannot
convert, raises ValueError.
"""
import functools
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import fastjsonschema
import nbformat
from nbformat.corpus.words import generate_corpus_id
from nbformat.validator import iter_validate, normalize

CODE_FIELDS = frozenset({"id", "cell_type", "metadata", "source", "outputs", "execution_count"})
TEXT_FIELDS = frozenset({"id", "cell_type", "metadata", "source", "attachments"})
CELL_FIELDS = {"code": CODE_FIELDS, "markdown": TEXT_FIELDS, "raw": TEXT_FIELDS}
NOTEBOOK_FIELDS = frozenset({"cells", "metadata", "nbformat", "nbformat_minor"})
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5's cell_id
MAX_POSITIONS_SHOWN = 6


class UnreadableCell(ValueError):
    """A cell no repair can save; the message says why, in fixed words."""


def cell_positions(indices: list[int]) -> str:
    """'cell 3' or 'cells 3, 5 and 8' (positions count from 1, as a student counts)."""
    shown = [str(i + 1) for i in indices[:MAX_POSITIONS_SHOWN]]
    if len(indices) > MAX_POSITIONS_SHOWN:
        shown.append(f"{len(indices) - MAX_POSITIONS_SHOWN} more")
    if len(shown) == 1:
        return f"cell {shown[0]}"
    return f"cells {', '.join(shown[:-1])} and {shown[-1]}"


# Steps on the notebook's top level (a dict parsed from JSON).

def set_format_version(nb: dict) -> str | None:
    """A notebook with a list of cells is format 4; one with worksheets is format 2 or 3."""
    stated = nb.get("nbformat")
    major = 4 if "cells" in nb else stated if stated in (2, 3) else 3
    if stated == major and type(stated) is int:
        return None
    nb["nbformat"] = major
    return f"the notebook's format version was missing or wrong; it was read as version {major}"


def set_minor_version(nb: dict) -> str | None:
    """A format-4 notebook without a whole-number minor version is read as the current one."""
    minor = nb.get("nbformat_minor")
    if nb["nbformat"] != 4 or (type(minor) is int and minor >= 0):
        return None
    nb["nbformat_minor"] = minor = nbformat.v4.nbformat_minor
    return f"the notebook's format minor version was missing or not a number; it was read as 4.{minor}"


def reset_notebook_metadata(nb: dict) -> str | None:
    if isinstance(nb.get("metadata"), dict):
        return None
    nb["metadata"] = {}
    return "the notebook's metadata was missing or not an object and was reset"


def drop_unknown_notebook_fields(nb: dict) -> str | None:
    unknown = nb.keys() - NOTEBOOK_FIELDS
    for key in unknown:
        del nb[key]
    return "fields that a notebook does not have were removed from the top level" if unknown else None


NOTEBOOK_STEPS = (reset_notebook_metadata, drop_unknown_notebook_fields)


# Steps on one cell of a format-4 notebook: each returns a note, or raises UnreadableCell.

def require_object(cell) -> None:
    if not isinstance(cell, dict):
        raise UnreadableCell("a cell that is not a JSON object was skipped")


def require_known_type(cell: dict) -> None:
    if cell.get("cell_type") not in CELL_FIELDS:
        raise UnreadableCell("a cell of unknown type was skipped")


def join_source(cell: dict) -> None:
    """A source is text, or a list of lines (as nbformat writes it): joined, as nbformat reads it."""
    source = cell.get("source")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        cell["source"] = "".join(source)
    elif not isinstance(source, str):
        raise UnreadableCell("a cell whose source is missing or not text was skipped")


def reset_cell_metadata(cell: dict) -> str | None:
    if isinstance(cell.get("metadata"), dict):
        return None
    cell["metadata"] = {}
    return "cell metadata that was missing or not an object was reset"


def drop_unreadable_nbgrader_metadata(cell: dict) -> str | None:
    """nbgrader metadata that is not an object, or whose grade_id is not text, is removed:
    the cell then counts as one the student added."""
    meta = cell["metadata"].get("nbgrader", {})
    if isinstance(meta, dict) and isinstance(meta.get("grade_id", ""), str):
        return None
    del cell["metadata"]["nbgrader"]
    return "nbgrader metadata that could not be read was removed (the cell counts as one you added)"


def drop_unreadable_points(cell: dict) -> str | None:
    meta = cell["metadata"].get("nbgrader", {})
    points = meta.get("points", 0)
    if type(points) in (int, float):
        return None
    del meta["points"]
    return "a points value that was not a number was removed"


def drop_outputs_of_text_cells(cell: dict) -> str | None:
    """Markdown and raw cells have no outputs or execution count (nbgrader's OverwriteCells
    drops them the same way when it turns a cell back into markdown)."""
    found = cell.keys() & {"outputs", "execution_count"}
    if cell["cell_type"] == "code" or not found:
        return None
    for key in found:
        del cell[key]
    return "outputs or an execution count on a text cell were removed"


def drop_attachments_of_code_cells(cell: dict) -> str | None:
    if cell["cell_type"] != "code" or "attachments" not in cell:
        return None
    del cell["attachments"]
    return "attachments on a code cell were removed"


def drop_unreadable_attachments(cell: dict) -> str | None:
    attachments = cell.get("attachments", {})
    if isinstance(attachments, dict) and all(isinstance(a, dict) for a in attachments.values()):
        return None
    del cell["attachments"]
    return "attachments that could not be read were removed"


def drop_unknown_cell_fields(cell: dict) -> str | None:
    unknown = cell.keys() - CODE_FIELDS - TEXT_FIELDS
    for key in unknown:
        del cell[key]
    return "fields that a notebook cell does not have were removed" if unknown else None


def reset_outputs(cell: dict) -> str | None:
    if cell["cell_type"] != "code" or isinstance(cell.get("outputs"), list):
        return None
    cell["outputs"] = []
    return "a code cell without a list of outputs was given an empty one"


def drop_unreadable_outputs(cell: dict) -> str | None:
    """Outputs that do not follow nbformat's output schema are removed (the others are kept)."""
    if cell["cell_type"] != "code":
        return None
    kept = [output for output in cell["outputs"] if _valid_output(output)]
    if len(kept) == len(cell["outputs"]):
        return None
    cell["outputs"] = kept
    return "outputs that do not follow the notebook format were removed"


def clear_bad_execution_count(cell: dict) -> str | None:
    count = cell.get("execution_count")
    if cell["cell_type"] != "code" or (type(count) is int and count >= 0) or \
            (count is None and "execution_count" in cell):
        return None
    cell["execution_count"] = None
    return "an execution count that was missing or not a number was cleared"


def replace_invalid_id(cell: dict) -> str | None:
    """An id that is not 1 to 64 letters, digits, '-' or '_' gets a new one, made by nbformat's
    own generator (a missing id is left to nbformat's normalize)."""
    if "id" not in cell or (isinstance(cell["id"], str) and CELL_ID.fullmatch(cell["id"])):
        return None
    cell["id"] = generate_corpus_id()
    return "a cell id that was not valid (1 to 64 letters, digits, - or _) was replaced"


CELL_STEPS: tuple[Callable, ...] = (
    require_object, require_known_type, join_source, reset_cell_metadata,
    drop_unreadable_nbgrader_metadata, drop_unreadable_points, drop_outputs_of_text_cells,
    drop_attachments_of_code_cells, drop_unreadable_attachments, drop_unknown_cell_fields,
    reset_outputs, drop_unreadable_outputs, clear_bad_execution_count, replace_invalid_id,
)


@functools.cache
def _output_check() -> Callable:
    """nbformat 4.5's own schema for one output, compiled by fastjsonschema (nbformat's fast
    validator): checking outputs one by one with nbformat.validate would cost ~0.5 ms each."""
    schema_name = nbformat.v4.nbformat_schema[(4, nbformat.v4.nbformat_minor)]
    schema_file = Path(nbformat.v4.__file__).parent / schema_name
    definitions = json.loads(schema_file.read_text(encoding="utf-8"))["definitions"]
    return fastjsonschema.compile({"$ref": "#/definitions/output", "definitions": definitions})


def _valid_output(output) -> bool:
    try:
        _output_check()(output)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def skipped_cell() -> nbformat.NotebookNode:
    """What stands in for a cell that cannot be read: an empty raw cell, which never runs."""
    return nbformat.v4.new_raw_cell()


class Notes:
    """Repair notes, each with the positions of the cells it concerns (none: the notebook),
    and the positions of the cells that were skipped."""

    def __init__(self):
        self._places: dict[str, list[int]] = {}
        self.skipped: set[int] = set()

    def add(self, note: str | None, index: int | None = None) -> None:
        if note:
            places = self._places.setdefault(note, [])
            if index is not None and index not in places:
                places.append(index)

    def skip(self, note: str, index: int) -> None:
        self.add(note, index)
        self.skipped.add(index)

    def lines(self) -> list[str]:
        return [f"{note} ({cell_positions(sorted(places))})" if places else note
                for note, places in self._places.items()]


def repair_cells(cells: list, notes: Notes) -> list:
    """Every cell through CELL_STEPS, in order; a cell that cannot be read is skipped."""
    repaired = []
    for index, cell in enumerate(cells):
        try:
            for step in CELL_STEPS:
                notes.add(step(cell), index)
        except UnreadableCell as err:
            notes.skip(str(err), index)
            cell = skipped_cell()
        repaired.append(cell)
    return repaired


def convert_old_format(nb: dict) -> dict:
    """A format 1-3 notebook converted to format 4 by nbformat, as Jupyter opens it."""
    major = nb["nbformat"]
    if major == 4:
        return nb
    try:
        old = nbformat.versions[major].to_notebook_json(nb, minor=nb.get("nbformat_minor", 0))
        return nbformat.convert(old, 4)
    except Exception:  # nbformat's converters raise many types on malformed input
        raise ValueError(f"not a valid notebook: it could not be converted from format {major}") from None


def normalize_with_nbformat(nb, notes: Notes) -> None:
    """nbformat's normalize: new ids for missing and duplicated ones, and metadata that does
    not follow the schema stripped; the notes say where it changed something. normalize
    copies what it is given, so it is given the cells without their (already checked)
    outputs, and its ids and metadata are copied back."""
    light = {**nb, "cells": [{**cell, "outputs": []} if cell.cell_type == "code" else cell
                             for cell in nb.cells]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, normal = normalize(light, strip_invalid_metadata=True)
    for index, (cell, after) in enumerate(zip(nb.cells, normal["cells"])):
        if "id" not in cell:
            notes.add("a missing cell id was added", index)
        elif cell.id != after["id"]:
            notes.add("a cell id used by an earlier cell was replaced", index)
        if cell.metadata != after["metadata"]:
            notes.add("cell metadata that does not follow the notebook format was removed", index)
        cell.id, cell.metadata = after["id"], nbformat.from_dict(after["metadata"])
    if nb.metadata != normal["metadata"]:
        notes.add("notebook metadata that does not follow the notebook format was removed")
        nb.metadata = nbformat.from_dict(normal["metadata"])


def skip_invalid_cells(nb, notes: Notes) -> None:
    """Any cell still not valid after every repair is skipped; a fault outside the cells is fatal."""
    while errors := list(iter_validate(nb)):
        paths = [list(error.relative_path) for error in errors]
        if any(len(path) < 2 or path[0] != "cells" for path in paths):
            raise ValueError("not a valid notebook: its top level does not follow the notebook format")
        invalid = {path[1] for path in paths}
        if invalid & notes.skipped:  # never happens (a skipped cell is valid); stops any loop
            raise ValueError("not a valid notebook: its cells do not follow the notebook format")
        for index in sorted(invalid):
            notes.skip("a cell that does not follow the notebook format was skipped", index)
            nb.cells[index] = skipped_cell()


def repair_notebook(raw: dict) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook (format 4.5) that can be read from ``raw``, and the repair notes."""
    notes = Notes()
    notes.add(set_format_version(raw))
    nb = convert_old_format(raw)
    notes.add(set_minor_version(nb))
    for step in NOTEBOOK_STEPS:
        notes.add(step(nb))
    nb["cells"] = repair_cells(nb["cells"], notes)
    nb = nbformat.v4.to_notebook_json(nb)
    if nb.nbformat_minor < nbformat.v4.nbformat_minor:
        nb = nbformat.v4.upgrade(nb, 4, nb.nbformat_minor)
    normalize_with_nbformat(nb, notes)
    skip_invalid_cells(nb, notes)
    if nb.cells and len(notes.skipped) == len(nb.cells):
        raise ValueError("not a valid notebook: none of its cells can be read")
    return nb, notes.lines()

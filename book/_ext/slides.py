"""A reveal.js slide deck for every chapter, made from the chapter itself at each HTML build.

There is no second copy of the text: the deck is derived from the chapter's MyST source and
the outputs of the build's own execution (``reader_links.chapter_notebook``), by fixed rules:

- the title slide holds the chapter's title and its learning objectives;
- each ``##`` section starts a slide (each ``###`` a slide below it) with its heading and its
  first paragraph or list; the rest of the section's prose becomes the speaker notes (press S);
- every display equation and every figure (with its caption) gets a slide of its own under the
  section's heading; code, practice exercises, quizzes and other directives are left out
  (the instructor live-codes from the live-coding notebooks);
- MyST roles become plain text: glossary terms, chapter titles, author–year citations, glued
  numbers formatted as in the chapter, figure numbers.

Decks are written to ``slides/<page>.html`` and linked from the page's download menu.
reveal.js comes from the pinned ``sphinx-revealjs`` wheel (its bundled copy; its Sphinx builder
is not used) and MathJax from the book's own copy, so the decks work offline. Anything the
rules cannot turn into a slide (an unknown role, a glued name that does not exist) stops the
build with an error: the decks are built with warnings as errors, like the book.
"""
import ast
import json
import re
import shutil
from pathlib import Path

import nbformat
from sphinx.errors import ExtensionError

SLIDES_FOLDER = "slides"
REVEAL = Path(__import__("sphinx_revealjs").__file__).parent / "_static" / "revealjs"
TEMPLATE = Path(__file__).parent / "slides-template"
LEFT_OUT_SECTIONS = {"References", "Concept checks"}
# A role, or an inline code span (left as it is: it may show a role's syntax).
ROLE = re.compile(r"\{(?P<role>[a-z:\-]+)\}`(?P<content>[^`]*)`|(?P<code>(`+)[^`].*?\4)")
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,}|:{3,})\s*(\{(?P<name>[^}]+)\})?")
HEADING = re.compile(r"^(?P<level>#{1,3}) (?P<title>.+)$")


def _glued(app, page: str) -> dict:
    """{name: value} of what the chapter glued (myst-nb writes jupyter_execute/<page>.glue.json)."""
    path = Path(app.outdir).parent / "jupyter_execute" / f"{page}.glue.json"
    values = {}
    if path.is_file():
        for name, output in json.loads(path.read_text(encoding="utf-8")).items():
            text = output.get("data", {}).get("text/plain", "")
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text.strip("'\"")
    return values


def _citations(app) -> dict:
    """Citation key -> "Author Year" / "Author & Other Year" / "Author et al. Year"."""
    from pybtex.database import parse_file

    cited = {}
    for name in app.config.bibtex_bibfiles:
        for key, entry in parse_file(str(Path(app.srcdir) / name)).entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
            who = (last[0] if len(last) == 1 else f"{last[0]} & {last[1]}" if len(last) == 2
                   else f"{last[0]} et al." if last else entry.fields.get("title", key))
            cited[key] = f"{who} {entry.fields.get('year', '')}".strip()
    return cited


class Roles:
    """MyST roles of one chapter as the plain text a slide shows."""

    def __init__(self, app, page: str, citations: dict):
        self.app, self.page, self.glued, self.citations = app, page, _glued(app, page), citations

    def __call__(self, text: str) -> str:
        return ROLE.sub(self._one, text)

    def _one(self, match) -> str:
        if match["code"]:
            return match["code"]
        role, content = match["role"], match["content"]
        shown, _, target = (content[:-1].partition(" <") if content.endswith(">") else (content, "", content))
        target = target or content
        if role in {"term", "ref", "download"}:
            return shown
        if role == "doc":
            title = self.app.env.titles.get(content)
            return shown if target != content or title is None else title.astext()
        if role == "math":
            return f"${content}$"
        if role.startswith("cite"):
            names = [self.citations.get(key.strip()) for key in content.split(",")]
            if None in names:
                raise ExtensionError(f"slides of {self.page}: unknown citation in {{{role}}}`{content}`")
            return "; ".join(names) if role == "cite:t" else "(" + "; ".join(names) + ")"
        if role in {"glue:text", "glue"}:
            name, _, spec = content.partition(":")
            if name not in self.glued:
                raise ExtensionError(f"slides of {self.page}: {{{role}}}`{content}` names nothing the chapter glued")
            value = self.glued[name]
            return format(value, spec) if spec else str(value)
        if role == "numref":
            numbers = self.app.env.toc_fignumbers.get(self.page, {}).get("figure", {})
            label = self.app.env.get_domain("std").labels.get(target)
            number = numbers.get(label[1]) if label else None
            return "Figure " + ".".join(map(str, number)) if number else shown
        raise ExtensionError(f"slides of {self.page}: no slide rule for the role {{{role}}}")


def _blocks(markdown: str):
    """Split a markdown cell into ("heading", level, title), ("math", text), ("directive",
    name, text) and ("text", paragraph) blocks."""
    lines, i = markdown.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if heading := HEADING.match(line):
            yield "heading", len(heading["level"]), heading["title"]
            i += 1
        elif fence := FENCE.match(line):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence["fence"]), len(lines))
            yield "directive", (fence["name"] or "").strip(), "\n".join(lines[i + 1:end])
            i = end + 1
        elif line.strip().startswith("$$"):
            end = i if line.strip().endswith("$$") and len(line.strip()) > 2 else next(
                (j for j in range(i + 1, len(lines)) if lines[j].strip().endswith("$$")), len(lines) - 1)
            yield "math", "\n".join(lines[i:end + 1])
            i = end + 1
        else:
            end = next((j for j in range(i, len(lines)) if not lines[j].strip() or HEADING.match(lines[j])
                        or FENCE.match(lines[j]) or lines[j].strip().startswith("$$")), len(lines))
            yield "text", "\n".join(lines[i:end])
            i = end


def _objectives(text: str) -> str:
    """The bullet list after "should be able to" in the chapter's "About this chapter" box."""
    after = text.split("should be able to", 1)[-1]
    items = re.findall(r"^- .*?(?=^- |^\s*$|\Z)", after, flags=re.M | re.S)
    return "\n".join(item.strip() for item in items)


def _cell(kind: str, source: str, slide_type: str):
    cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(source)
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    return cell


def deck(notebook, roles: Roles) -> nbformat.NotebookNode:
    """The slide notebook of a chapter notebook (see the module's rules)."""
    cells, section, notes, lead_wanted, skipping = [], "", [], False, False

    def flush_notes():
        if notes:
            cells.append(_cell("markdown", "\n\n".join(notes), "notes"))
            notes.clear()

    for cell in notebook.cells:
        if cell.cell_type == "code":
            images = [o for o in cell.get("outputs", []) if o.get("output_type") in {"display_data", "execute_result"}
                      and {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
            if images and not skipping:
                flush_notes()
                cells.append(_cell("markdown", f"#### {section}", "subslide"))
                figure = _cell("code", "", "-")
                figure.outputs = [nbformat.from_dict(o) for o in images]
                cells.append(figure)
                caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption", "")
                figure.metadata["alt"] = roles(cell.metadata.get("mystnb", {}).get("image", {}).get("alt", caption))
                if caption:
                    cells.append(_cell("markdown", roles(caption.strip()), "-"))
            continue
        if cell.cell_type != "markdown":
            continue
        for block in _blocks(cell.source):
            if block[0] == "heading":
                level, title = block[1], roles(block[2])
                skipping = level == 2 and title in LEFT_OUT_SECTIONS
                if skipping:
                    continue
                flush_notes()
                section = title if level <= 2 else section
                cells.append(_cell("markdown", f"{'#' * level} {title}", "slide" if level <= 2 else "subslide"))
                lead_wanted = level >= 2
            elif skipping:
                continue
            elif block[0] == "directive":
                if block[1] == "admonition" and "should be able to" in block[2]:
                    cells.append(_cell("markdown", roles(_objectives(block[2])), "-"))
                elif block[1] == "math":
                    cells.append(_cell("markdown", f"#### {section}\n\n$$\n{block[2].strip()}\n$$", "subslide"))
            elif block[0] == "math":
                flush_notes()
                cells.append(_cell("markdown", f"#### {section}\n\n{block[1]}", "subslide"))
            elif lead_wanted:
                cells.append(_cell("markdown", roles(block[1]), "-"))
                lead_wanted = False
            else:
                notes.append(roles(block[1]))
    flush_notes()
    slides = nbformat.v4.new_notebook(cells=cells, metadata={"title": notebook.metadata.get("title", "")})
    nbformat.validate(slides)
    return slides


def _stage_reveal(outdir: Path) -> None:
    target = outdir / "_static" / "revealjs"
    for part in ("dist", "plugin/notes"):
        shutil.copytree(REVEAL / part, target / part, dirs_exist_ok=True)


def write_decks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from nbconvert import SlidesExporter

    from reader_links import chapter_notebook, is_notebook

    outdir = Path(app.outdir)
    _stage_reveal(outdir)
    (outdir / SLIDES_FOLDER).mkdir(exist_ok=True)
    exporter = SlidesExporter(extra_template_basedirs=[str(TEMPLATE.parent)], template_name=TEMPLATE.name,
                              reveal_url_prefix="../_static/revealjs", reveal_theme="white",
                              exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    citations = _citations(app)
    cache = outdir.parent / ".jupyter_cache"
    for page in sorted(p for p in app.env.found_docs if is_notebook(app, p)):
        notebook = chapter_notebook(Path(app.env.doc2path(page)), cache)
        notebook.metadata["title"] = app.env.titles[page].astext()
        html, _ = exporter.from_notebook_node(deck(notebook, Roles(app, page, citations)))
        (outdir / SLIDES_FOLDER / f"{page}.html").write_text(html, encoding="utf-8")


def _menu_link(app, pagename, templatename, context, doctree):
    from reader_links import is_notebook

    if not is_notebook(app, pagename):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link", "url": context["pathto"](f"{SLIDES_FOLDER}/{pagename}.html", 1), "text": "slides",
                "tooltip": "This chapter as reveal.js slides (S opens the speaker notes)",
                "icon": "fas fa-person-chalkboard", "label": "slides-button"})


def setup(app):
    app.connect("html-page-context", _menu_link, priority=650)   # after reader_links' buttons
    app.connect("build-finished", write_decks, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

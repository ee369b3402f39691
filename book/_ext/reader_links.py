"""What every page offers a reader beyond its text: the chapter as a notebook, the book as a
PDF, the chapter in the reader's own JupyterLab, and the course's repository.

- At the end of an HTML build each page that MyST-NB executed is written to
  ``notebooks/<page>.ipynb``: jupytext reads the MyST source and the outputs of the build's own
  execution are merged in from MyST-NB's jupyter-cache, so the notebook shows what the page
  shows and runs again as it is.
- The theme's download menu gains the chapter's ``.ipynb`` and the book's PDF
  (``course-book.pdf``, printed after the build by ``book/_tools/print_book.py``).
- Every chapter gets an "Open in your JupyterLab" button (the setting-up page's instructions,
  which need no network); the theme adds a JupyterHub button when ``launch_buttons:
  jupyterhub_url`` is set in ``_config.yml``.
- The footer links the repository (``repository: url``) and its issue tracker.
"""
from pathlib import Path

import jupytext
import nbformat

NOTEBOOK_FOLDER = "notebooks"
BOOK_PDF = "course-book.pdf"
LOCAL_LAUNCH = ("setting-up", "open-a-chapter-in-your-own-jupyterlab")   # page, section


def is_notebook(app, page: str) -> bool:
    """Whether MyST-NB executed the page (it writes each notebook it runs to jupyter_execute)."""
    return (Path(app.outdir).parent / "jupyter_execute" / f"{page}.ipynb").is_file()


def chapter_notebook(source: Path, cache_path: Path) -> nbformat.NotebookNode:
    """The notebook of a MyST source, with the build's outputs where the cache has them."""
    notebook = jupytext.read(source, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)
    if cache_path.is_dir():
        from jupyter_cache import get_cache
        try:
            _pk, notebook = get_cache(cache_path).merge_match_into_notebook(notebook)
        except KeyError:   # changed since it was last executed: the notebook without outputs
            pass
    nbformat.validate(notebook)
    return notebook


def _write_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    cache_path = Path(app.outdir).parent / ".jupyter_cache"
    target = Path(app.outdir) / NOTEBOOK_FOLDER
    target.mkdir(exist_ok=True)
    for page in sorted(page for page in app.env.found_docs if is_notebook(app, page)):
        notebook = chapter_notebook(Path(app.env.doc2path(page)), cache_path)
        nbformat.write(notebook, target / f"{page}.ipynb")


def _header_buttons(app, pagename, templatename, context, doctree):
    """The chapter's notebook and the book's PDF in the download menu; the local launch."""
    pathto = context["pathto"]
    buttons = context.get("header_buttons", [])
    chapter = is_notebook(app, pagename)
    for group in buttons:
        if group.get("label") != "download-buttons":
            continue
        extra = [{"type": "link", "url": pathto(BOOK_PDF, 1), "text": "book .pdf",
                  "tooltip": "Download the whole book as one PDF", "icon": "fas fa-book",
                  "label": "download-book-pdf-button"}]
        if chapter:
            extra.insert(0, {"type": "link", "url": pathto(f"{NOTEBOOK_FOLDER}/{pagename}.ipynb", 1),
                             "text": ".ipynb", "tooltip": "Download this chapter as a notebook, with its outputs",
                             "icon": "fas fa-code", "label": "download-notebook-button"})
        group["buttons"] = extra + group["buttons"]
    if chapter:
        page, section = LOCAL_LAUNCH
        buttons.insert(0, {"type": "link", "url": f"{pathto(page)}#{section}", "icon": "fas fa-rocket",
                           "tooltip": "Open this chapter in your own JupyterLab",
                           "label": "open-in-local-jupyterlab"})


def _repository_footer(app, config):
    url = config.html_theme_options.get("repository_url")
    if url:
        config.html_theme_options["extra_footer"] = (
            config.html_theme_options.get("extra_footer", "")
            + f'<p>Source: <a href="{url}">the course\'s repository</a>; '
              f'found a mistake? <a href="{url}/issues">Open an issue</a>.</p>')


def setup(app):
    app.connect("config-inited", _repository_footer)
    app.connect("html-page-context", _header_buttons, priority=600)   # after the theme's (501)
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Repairs to what the pinned toolchain writes into every page (Jupyter Book 1.0.4, Sphinx 7.4,
sphinx-thebe 0.3.1, sphinxcontrib-bibtex 2.7); the theme's own templates are mended in
``book/_templates``. Each repair is checked in the browser by ``tests/test_book_reader.py``.

- sphinx-thebe registers its inline configuration (``const THEBE_JS_URL = ...``) once per
  environment update, so a page's ``<head>`` held two copies and the second threw a
  SyntaxError on every page (sphinx-togglebutton's selector is doubled the same way, harmlessly):
  duplicate scripts are dropped.
- pydata-sphinx-theme's default colour mode is "", which its script reports with
  ``console.error`` on a reader's first visit: the default is "auto" (follow the system).
- Docutils marks a bibliography ``<div role="list">`` whose children are ``<div
  role="doc-biblioentry">`` (a deprecated role) and the bare ``<a>`` targets the bibtex
  extension adds: assistive technology announces a broken list (axe: aria-required-children,
  critical). The roles are removed; the entries stay plain, labelled blocks.
"""
import re

DEFAULT_COLOUR_MODE = "auto"

_BIBLIOGRAPHY_ROLES = re.compile(
    r'(<div\b(?=[^>]*\bclass="citation(?:-list)?")[^>]*?)\s+role="(?:list|doc-biblioentry)"')


def _default_colour_mode(app, config):
    config.html_context.setdefault("default_mode", DEFAULT_COLOUR_MODE)


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of scripts with the same source and attributes (whatever their priority)."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),   # an inline script's is None or ""
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"][:] = kept


def _plain_bibliography(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if 'class="citation' in body:
        context["body"] = _BIBLIOGRAPHY_ROLES.sub(r"\1", body)


def setup(app):
    app.connect("config-inited", _default_colour_mode)
    app.connect("html-page-context", _drop_duplicate_scripts)
    app.connect("html-page-context", _plain_bibliography)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

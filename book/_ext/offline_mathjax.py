"""Serve MathJax from the built book instead of a CDN, so maths renders offline.

The MathJax 3 files come from the pinned ``django-static-mathjax`` wheel
(importable as ``mathjax``). Only the parts a TeX/CHTML page loads are staged.
"""
from pathlib import Path
import shutil

import mathjax

ES5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
NEEDED = ["tex-chtml.js", "input/tex/extensions", "output/chtml", "ui", "a11y", "adaptors"]
MATHJAX_URL = "mathjax/tex-chtml.js"


def _stage(outdir: Path) -> Path:
    """Copy the needed MathJax files once into a folder Sphinx treats as static."""
    stage = outdir.parent / "mathjax-static"
    target = stage / "mathjax"
    if not (target / "tex-chtml.js").exists():
        for part in NEEDED:
            src = ES5 / part
            if src.is_dir():
                shutil.copytree(src, target / part, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / part)
    return stage


def _configure(app, config):
    config.mathjax_path = MATHJAX_URL
    config.html_static_path = [*config.html_static_path, str(_stage(Path(app.outdir)))]


def setup(app):
    app.connect("config-inited", _configure, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

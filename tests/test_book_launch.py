"""The JupyterHub launch button an instructor switches on with one setting: a one-page book built
with the course's own _config.yml plus `launch_buttons: jupyterhub_url` has, on its chapter, an
nbgitpuller link that clones the course's repository into the hub account and opens that
chapter in JupyterLab."""
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
HUB = "https://hub.example.edu"
CHAPTER = """---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# A chapter

```{code-cell} ipython3
1 + 1
```
"""


def test_one_setting_gives_every_chapter_a_jupyterhub_button(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "chapter.md").write_text(CHAPTER)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: chapter\n")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["launch_buttons"]["jupyterhub_url"] = HUB
    config["bibtex_bibfiles"] = [str(ROOT / "book" / bib) for bib in config["bibtex_bibfiles"]]
    config["html"]["favicon"] = str(ROOT / "book" / config["html"]["favicon"])
    sphinx = config["sphinx"]
    sphinx["local_extensions"] = {name: str(ROOT / path) for name, path in sphinx["local_extensions"].items()}
    sphinx["config"]["templates_path"] = [str(ROOT / "book" / "_templates")]
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(book), "--config",
                            str(tmp_path / "_config.yml"), "--toc", str(tmp_path / "_toc.yml"),
                            "--path-output", str(tmp_path), "-W", "-n", "--keep-going"],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    page = (tmp_path / "_build" / "html" / "chapter.html").read_text()
    links = [part.split('"', 1)[0].replace("&amp;", "&") for part in page.split('href="')[1:]]
    hub = [link for link in links if link.startswith(HUB)]
    assert len(hub) == 1, f"no single JupyterHub link on the chapter: {hub}"
    url = urlsplit(hub[0])
    assert url.path == "/hub/user-redirect/git-pull"
    query = {key: value[0] for key, value in parse_qs(url.query).items()}
    repository = config["repository"]["url"]
    assert query == {"repo": repository, "branch": config["repository"]["branch"],
                     "urlpath": f"lab/tree/{repository.rsplit('/', 1)[-1]}/book/chapter.md"}

import sys

# nbformat imports jsonschema, which registers an optional IRI format checker when
# rfc3987_syntax is installed (jupyter-events, a Jupyter server dependency, asks for it);
# importing it compiles 38 lark grammars, about 1.4 s at every start of the grader.
# Notebook schemas never use the "iri" format, so the grader's process goes without it.
sys.modules.setdefault("rfc3987_syntax", None)

from .cli import main  # noqa: E402

sys.exit(main())

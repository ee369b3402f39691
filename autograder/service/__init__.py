"""The grading service: students submit over HTTP and get their grade in seconds.

Two processes, one job each. The web process (``app``) authenticates, checks the limits,
stores each accepted upload (content-addressed) and journals it before it replies; it never
runs student code and never writes the gradebook. The grader process (``grader``) is the
single writer: it takes queued attempts from the journal in order of receipt, grades each in
the sandbox on a process pool (the batch grader's own worker), records the result in the
journal once, and then writes the kept attempt (last or best) into nbgrader's layout and
gradebook, so ``feedback``, ``report`` and ``nbgrader export`` keep working.

Everything lives under ``<course>/service/``: ``journal.db`` (attempts and results),
``uploads/<sha256>.ipynb`` and ``tokens.json`` (hashes only).
"""

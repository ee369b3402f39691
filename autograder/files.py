"""Writing the grader's own files whole or not at all.

A file is written to a hidden sibling and then renamed over its target in one step, so a
grader killed or stopped by a full disk leaves either the old file or the new one, never
half of one, and no sibling behind. The rename replaces, never follows, whatever stood there.
"""
import os
from contextlib import suppress
from pathlib import Path


def write_whole(path: Path, data: bytes, mtime: float | None = None) -> None:
    """Replace ``path`` by ``data`` (with modification time ``mtime``, if given) in one step;
    an OSError names ``path``."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        if mtime is not None:
            os.utime(partial, (mtime, mtime))
        os.replace(partial, path)
    except OSError as err:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from None

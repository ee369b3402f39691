"""Loaders for the small data tables shipped in the repository's ``data/`` folder.

See ``data/README.md`` for the source, citation and licence of each file.
"""
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _read_csv(name: str) -> np.ndarray:
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run from a full checkout of the course (data/ holds it)"
        )
    return np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")


def load_hogg2010() -> np.ndarray:
    """Table 1 of Hogg, Bovy & Lang (2010): a record array with fields
    ``id, x, y, sigma_y, sigma_x, rho_xy`` (20 rows)."""
    return _read_csv("hogg2010_table1.csv")


def load_old_faithful() -> np.ndarray:
    """Old Faithful eruptions (R ``datasets::faithful``): a record array with fields
    ``eruptions`` (minutes) and ``waiting`` (minutes to the next eruption), 272 rows."""
    return _read_csv("old_faithful.csv")

"""Loaders for the small data tables shipped in the repository's ``data/`` folder.

See ``data/README.md`` for the source, citation and licence of each file.
"""
import csv
import re
from datetime import datetime
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _data_file(name: str) -> Path:
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run from a full checkout of the course (data/ holds it)"
        )
    return path


def _read_csv(name: str) -> np.ndarray:
    return np.genfromtxt(_data_file(name), delimiter=",", names=True, dtype=None, encoding="utf-8")


def load_hogg2010() -> np.ndarray:
    """Table 1 of Hogg, Bovy & Lang (2010): a record array with fields
    ``id, x, y, sigma_y, sigma_x, rho_xy`` (20 rows)."""
    return _read_csv("hogg2010_table1.csv")


def load_old_faithful() -> np.ndarray:
    """Old Faithful eruptions (R ``datasets::faithful``): a record array with fields
    ``eruptions`` (minutes) and ``waiting`` (minutes to the next eruption), 272 rows."""
    return _read_csv("old_faithful.csv")


def load_eight_schools() -> np.ndarray:
    """The eight schools of Rubin (1981), Table 1 (SAT-V coaching experiments): a record array
    with fields ``rownames, school`` (A-H), ``num_treat, num_control`` (students coached and
    not coached), ``est`` (estimated coaching effect, SAT points), ``se`` (its standard error)
    and ``rvar`` (residual variance), 8 rows. Gelman et al., BDA3 Table 5.2, rounds ``est`` and
    ``se`` to whole points."""
    return _read_csv("eight_schools_rubin1981.csv")


def load_jla_binned() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The JLA binned distance moduli of Betoule et al. (2014), Appendix E: the redshifts ``z``
    of the 31 bins, the distance moduli ``mu`` (mag; defined up to an additive constant that
    absorbs H0 and the supernova absolute magnitude) and their 31 x 31 covariance (mag^2)."""
    z, mu = np.loadtxt(_data_file("jla/jla_mub.txt"), unpack=True)
    values = np.loadtxt(_data_file("jla/jla_mub_covmatrix.txt"))
    if values.size != z.size**2:
        raise ValueError(f"expected {z.size}**2 covariance entries, found {values.size}")
    return z, mu, values.reshape(z.size, z.size)


def load_mauna_loa_monthly() -> tuple[np.ndarray, np.ndarray]:
    """Monthly means of the weekly Mauna Loa CO2 record shipped with statsmodels
    (``statsmodels.datasets.co2``; Keeling & Whorf, Scripps, March 1958 - December 2001).

    Returns ``(year, co2)``: the middle of each month as a decimal year and the mean of that
    month's weekly values in ppm. The 5 months without any weekly value are left out (521 months).
    """
    from statsmodels.datasets import co2

    monthly = co2.load_pandas().data["co2"].resample("MS").mean().dropna()
    year = monthly.index.year + (monthly.index.month - 0.5) / 12.0
    return np.asarray(year, dtype=float), monthly.to_numpy(dtype=float)


COMMIT_FIELDS = ["repo", "commit", "date", "author", "is_bot", "files_changed", "insertions", "deletions", "message"]


def load_commit_messages() -> list[dict]:
    """The 1,331 commit messages of emcee and astroML (``data/commit_messages/``), oldest first
    within each repository: one dict per commit with ``repo``, ``commit`` (12 hex digits, or None
    where the file's column is broken: see its README), ``date`` (an aware datetime in the
    author's time zone), ``author`` (a pseudonym), ``is_bot`` (bool), ``files_changed``,
    ``insertions``, ``deletions`` (ints) and ``message`` (subject and body)."""
    with open(_data_file("commit_messages/commits.csv"), newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COMMIT_FIELDS:
            raise ValueError(f"commits.csv has the columns {reader.fieldnames}, expected {COMMIT_FIELDS}")
        return [{"repo": row["repo"],
                 "commit": row["commit"] if re.fullmatch(r"[0-9a-f]{12}", row["commit"]) else None,
                 "date": datetime.fromisoformat(row["date"]), "author": row["author"],
                 "is_bot": row["is_bot"] == "1", "files_changed": int(row["files_changed"]),
                 "insertions": int(row["insertions"]), "deletions": int(row["deletions"]),
                 "message": row["message"]} for row in reader]


def load_commit_labels() -> dict[int, int]:
    """The hand-labelled sample of ``data/commit_messages/labels.csv``: {row of
    ``load_commit_messages()``: tone label, 1 positive, 0 neutral, -1 negative}."""
    with open(_data_file("commit_messages/labels.csv"), newline="", encoding="utf-8") as handle:
        return {int(row["row"]): int(row["label"]) for row in csv.DictReader(handle)}

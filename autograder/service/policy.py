"""What the instructor allows per assignment: tries per window, late work, which attempt counts.

Read from ``<course>/service.toml`` (optional; every key has a default)::

    [defaults]
    tries = 5          # accepted attempts per window and student
    window = "24h"     # a number of seconds, or "90m", "24h", "7d"
    late = true        # accept attempts received after nbgrader's due date
    keep = "last"      # "last" or "best": the attempt that goes into the gradebook

    [assignments.mixtures]
    tries = 3

The due date is nbgrader's (``nbgrader db assignment add mixtures --duedate=...``). The time
that counts is the server's clock at receipt, never a time the client sends.
"""
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..errors import AutograderError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
KEEP = ("last", "best")


@dataclass(frozen=True)
class Policy:
    tries: int = 5
    window_seconds: float = 86400.0
    late: bool = True
    keep: str = "last"
    due: float | None = None    # nbgrader's due date (epoch seconds), if set


@dataclass(frozen=True)
class Refusal:
    status: int       # the HTTP status
    message: str      # one line for the student
    retry_at: float | None = None


def _seconds(value, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    text = str(value).strip()
    if text[:-1].replace(".", "", 1).isdigit() and text[-1:] in UNITS and float(text[:-1]) > 0:
        return float(text[:-1]) * UNITS[text[-1]]
    raise AutograderError(f"{where}: window must be seconds or like \"90m\", \"24h\", \"7d\", not {value!r}")


def _merge(policy: Policy, table: dict, where: str) -> Policy:
    known = {"tries", "window", "late", "keep"}
    if unknown := sorted(set(table) - known):
        raise AutograderError(f"{where}: unknown setting {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if "tries" in table and not (isinstance(table["tries"], int) and table["tries"] >= 1):
        raise AutograderError(f"{where}: tries must be a whole number of at least 1, not {table['tries']!r}")
    if "late" in table and not isinstance(table["late"], bool):
        raise AutograderError(f"{where}: late must be true or false, not {table['late']!r}")
    if table.get("keep", "last") not in KEEP:
        raise AutograderError(f"{where}: keep must be \"last\" or \"best\", not {table['keep']!r}")
    return replace(policy, tries=table.get("tries", policy.tries), late=table.get("late", policy.late),
                   keep=table.get("keep", policy.keep),
                   window_seconds=_seconds(table["window"], where) if "window" in table else policy.window_seconds)


def load_policies(course: Path, assignments: list[str], due_dates: dict[str, float | None]) -> dict[str, Policy]:
    """Each assignment's policy: defaults, then service.toml, then nbgrader's due date."""
    path = course / "service.toml"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise AutograderError(f"{path} is not valid TOML ({err}): fix it and start the service again") from None
    base = _merge(Policy(), config.get("defaults", {}), f"{path} [defaults]")
    per = config.get("assignments", {})
    if unknown := sorted(set(per) - set(assignments)):
        raise AutograderError(f"{path}: unknown assignment {', '.join(unknown)} (known: {', '.join(assignments)})")
    return {name: replace(_merge(base, per.get(name, {}), f"{path} [assignments.{name}]"),
                          due=due_dates.get(name)) for name in assignments}


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def refusal(policy: Policy, earlier: list[float], now: float) -> Refusal | None:
    """Why an attempt received at ``now`` is refused (None if accepted); ``earlier`` are the
    receipt times of the student's attempts in the window before ``now``, oldest first."""
    if policy.due is not None and now > policy.due and not policy.late:
        return Refusal(403, f"the due date ({when(policy.due)}) has passed and late work is not accepted")
    if len(earlier) >= policy.tries:
        opens = earlier[len(earlier) - policy.tries] + policy.window_seconds
        return Refusal(429, f"you have used your {policy.tries} tries in {_span(policy.window_seconds)}: "
                            f"the next try opens at {when(opens)}", opens)
    return None


def _span(seconds: float) -> str:
    for size, word in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {word}{'s' * (n != 1)}"
    return f"{seconds:g} seconds"

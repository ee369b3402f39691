"""Time a clean build of the whole book (every chapter executed) and a no-op rebuild.

Usage: `make bench` or `.venv/bin/python benchmarks/book_build.py`. Prints one line per
measurement against the design targets (clean ≤ 180 s, no-op ≤ 15 s); exits 0
even when a target is missed (the line then says MISSED), 1 if the build itself fails.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"clean build": 180.0, "no-op rebuild": 15.0}  # seconds


def make(*args: str) -> float:
    """Run `make ARGS` in the repository; returns the wall time in seconds."""
    start = time.perf_counter()
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"`make {' '.join(args)}` failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    return elapsed


def main() -> None:
    make("env")  # outside the timings: never time an environment install
    with tempfile.TemporaryDirectory(prefix="book-bench-") as build_root:
        times = {
            # a fresh folder has no execution cache, so every chapter is executed
            "clean build": make("book", f"BUILD_ROOT={build_root}"),
            "no-op rebuild": make("book", f"BUILD_ROOT={build_root}"),
        }
    for name, seconds in times.items():
        target = TARGETS[name]
        verdict = "" if seconds <= target else "  MISSED"
        print(f"{name}: {seconds:.1f} s (target ≤ {target:.0f} s){verdict}")


if __name__ == "__main__":
    main()

"""Load on the grading service: simulated students submitting the mixtures exercise over loopback.

Usage: `.venv/bin/python benchmarks/service_load.py [--students 30] [--tries 5]`.
A throw-away course gets STUDENTS roster students; their notebooks are the reference
solution, the blank release and the wrong-answer fixtures, in a seeded order. Three runs,
each on the same notebooks:

1. batch: `grade` on all of them at once (each notebook as its own student) — the baseline;
2. burst: every student sends all tries at once to `serve`; throughput is graded per second;
3. paced: students send their tries at random times (Poisson, at 70 % of the batch rate);
   latency is from the start of the upload to the moment the client sees the verdict.

Prints accepted, graded, lost (accepted but never graded: must be 0), duplicates (an
attempt recorded twice: must be 0), p50/p95 latency and both throughputs against the
targets (p95 ≤ 5 s, service throughput within 15 % of batch). Exits 0 even when a
target is missed (the line then says MISSED), 1 when a submission is lost or duplicated.
"""
import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from service_support import Server, autograder, issue_tokens, make_course  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "mixtures"
P95_TARGET, THROUGHPUT_SLACK = 5.0, 0.15
TIME_LIMIT = 900.0   # seconds any one run may take


def notebooks(count: int, seed: int = 2026) -> list[bytes]:
    """``count`` notebooks: reference, blank and wrong answers, in a seeded order."""
    from autograder.notebook import grade_id, read_notebook
    source = read_notebook(ROOT / "solutions/mixtures/mixtures.ipynb")
    kinds = [(ROOT / "solutions/mixtures/mixtures.ipynb").read_bytes(),
             (ROOT / "exercises/mixtures/mixtures.ipynb").read_bytes()]
    for case in sorted(FIXTURES.glob("*--*.py")):
        nb = nbformat.from_dict(source)
        for cell in nb.cells:
            if grade_id(cell) == case.name.split("--")[0]:
                cell.source = case.read_text()
        kinds.append(nbformat.writes(nb).encode())
    rng = random.Random(seed)
    return [rng.choice(kinds) for _ in range(count)]


def batch(work: Path, payloads: list[bytes]) -> float:
    """Seconds `grade` takes on the payloads, one student each."""
    course = make_course(work / "batch", [])
    for i, data in enumerate(payloads):
        folder = course / "submitted" / f"s{i:03d}" / "mixtures"
        folder.mkdir(parents=True)
        (folder / "mixtures.ipynb").write_bytes(data)
    started = time.perf_counter()
    result = autograder("grade", "mixtures", "--course", str(course), "--workers", "2", cwd=course,
                        timeout=TIME_LIMIT)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"batch grade failed: {result.stderr[-2000:]}")
    return elapsed


async def student(client, server, token, payloads, gaps, latencies, ids):
    for data, gap in zip(payloads, gaps):
        await asyncio.sleep(gap)
        started = time.perf_counter()
        reply = await client.post(f"{server.url}/api/assignments/mixtures/submissions", content=data,
                                  headers={"Authorization": f"Bearer {token}"})
        reply.raise_for_status()
        attempt = reply.json()
        ids.append(attempt["id"])
        while attempt["state"] != "done":
            await asyncio.sleep(0.1)
            attempt = (await client.get(f"{server.url}/api/attempts/{attempt['id']}",
                                        headers={"Authorization": f"Bearer {token}"})).json()
        latencies.append(time.perf_counter() - started)


async def drive(server, tokens, per_student, gaps_of):
    latencies, ids = [], []
    async with httpx.AsyncClient(timeout=120) as client:
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(
            student(client, server, tokens[name], per_student[name], gaps_of(name), latencies, ids)
            for name in tokens)), TIME_LIMIT)
    return latencies, ids, time.perf_counter() - started


def serve_run(work: Path, label: str, names, per_student, tries, gaps_of):
    course = make_course(work / label, names, f"[defaults]\ntries = {tries}\n")
    tokens = issue_tokens(course)
    server = Server(course, workers=2).start()
    try:
        latencies, ids, elapsed = asyncio.run(drive(server, tokens, per_student, gaps_of))
    finally:
        server.stop()
    journal = sqlite3.connect(course / "service" / "journal.db")
    accepted = journal.execute("SELECT count(*) FROM attempts").fetchone()[0]
    graded = journal.execute("SELECT count(DISTINCT attempt_id) FROM results").fetchone()[0]
    duplicates = journal.execute("SELECT count(*) FROM results").fetchone()[0] - graded + len(ids) - len(set(ids))
    return {"accepted": accepted, "graded": graded, "lost": accepted - graded, "duplicates": duplicates,
            "latencies": latencies, "seconds": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    names = [f"student{i:02d}" for i in range(args.students)]
    payloads = notebooks(args.students * args.tries)
    per_student = {name: payloads[i * args.tries:(i + 1) * args.tries] for i, name in enumerate(names)}
    with tempfile.TemporaryDirectory(prefix="service-load-") as tmp:
        work = Path(tmp)
        batch_seconds = batch(work, payloads)
        batch_rate = len(payloads) / batch_seconds
        burst = serve_run(work, "burst", names, per_student, args.tries, lambda name: [0.0] * args.tries)
        rng = random.Random(7)
        mean_gap = args.students / (0.7 * batch_rate)   # each student's mean time between tries
        paced = serve_run(work, "paced", names, per_student, args.tries,
                          lambda name: [rng.expovariate(1 / mean_gap) for _ in range(args.tries)])
        shutil.rmtree(work, ignore_errors=True)
    burst_rate = burst["graded"] / burst["seconds"]
    p50 = statistics.median(paced["latencies"])
    p95 = statistics.quantiles(paced["latencies"], n=20)[-1]
    print(f"{args.students} students × {args.tries} tries = {len(payloads)} submissions of mixtures, 2 workers")
    for label, run in (("burst", burst), ("paced", paced)):
        print(f"{label}: accepted {run['accepted']}, graded {run['graded']}, lost {run['lost']}, "
              f"duplicates {run['duplicates']}, {run['seconds']:.1f} s")
    print(f"paced latency upload→verdict: p50 {p50:.2f} s, p95 {p95:.2f} s (target ≤ {P95_TARGET:g} s)"
          + ("" if p95 <= P95_TARGET else "  MISSED") + f"; arrivals at {0.7 * batch_rate:.2f}/s")
    ratio = burst_rate / batch_rate
    print(f"throughput: batch grade {batch_rate:.2f}/s ({batch_seconds:.1f} s), service burst "
          f"{burst_rate:.2f}/s = {ratio:.0%} of batch (target ≥ {1 - THROUGHPUT_SLACK:.0%})"
          + ("" if ratio >= 1 - THROUGHPUT_SLACK else "  MISSED"))
    return 1 if burst["lost"] or paced["lost"] or burst["duplicates"] or paced["duplicates"] else 0


if __name__ == "__main__":
    sys.exit(main())

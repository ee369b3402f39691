"""The commit messages shipped for the text chapter load as their README describes them."""
from collections import Counter

from astrostats.data import load_commit_messages


def test_commit_messages_match_their_readme():
    commits = load_commit_messages()
    assert len(commits) == 1331
    assert Counter(c["repo"] for c in commits) == {"dfm/emcee": 850, "astroML/astroML": 481}
    emcee = [c["date"].date().isoformat() for c in commits if c["repo"] == "dfm/emcee"]
    astroml = [c["date"].date().isoformat() for c in commits if c["repo"] == "astroML/astroML"]
    assert (emcee[0], emcee[-1]) == ("2010-08-24", "2026-03-15")
    assert (astroml[0], astroml[-1]) == ("2012-10-17", "2024-01-04")
    assert all(c["date"].utcoffset() is not None for c in commits), "local hours need the author's offset"
    assert sum(c["is_bot"] for c in commits) == 79
    assert all(c["message"].strip() for c in commits)


def test_the_broken_commit_column_is_reported_as_missing():
    """The README's defect: only 3 rows keep their hash, the first of each repository among them."""
    commits = load_commit_messages()
    kept = [c for c in commits if c["commit"] is not None]
    assert len(kept) == 3
    assert {c["repo"] for c in kept} == {"dfm/emcee", "astroML/astroML"}
    assert commits[0]["commit"] == "b5c082ca229d"


def test_the_labelled_sample_is_the_stated_draw():
    """labels.csv holds the rows that the README's sample call draws, with their subjects."""
    import csv

    import pandas as pd

    from astrostats.data import DATA_DIR, load_commit_labels

    commits = pd.DataFrame(load_commit_messages())
    drawn = commits[~commits["is_bot"]].sample(40, random_state=2026)
    labels = load_commit_labels()
    assert list(labels) == list(drawn.index)
    assert set(labels.values()) <= {-1, 0, 1}
    with open(DATA_DIR / "commit_messages/labels.csv", newline="", encoding="utf-8") as handle:
        subjects = {int(r["row"]): r["subject"] for r in csv.DictReader(handle)}
    assert all(subjects[i] == commits.loc[i, "message"].split("\n")[0] for i in labels)

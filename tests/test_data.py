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

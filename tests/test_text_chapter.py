"""The text chapter reproduces VADER's published scores and does what its text says.

- VADER's documentation scores "VADER is smart, handsome, and funny." 0.8316 and "VADER is not
  smart, handsome, nor funny." -0.7424 (Hutto & Gilbert 2014, the package's README);
- the cache answers the second request itself (the server sees one); the vcrpy cassette
  replays the page after the server has stopped;
- the project comparison: the bootstrap interval contains the observed difference, and the
  permutation p-value agrees with scipy's permutation_test within Monte Carlo error;
- Holm's correction never keeps more weekdays than the uncorrected test;
- partial pooling: the estimated spread of author means is not negative.
"""
import numpy as np
import pytest

CHAPTER = "text"
pytestmark = pytest.mark.book


def test_vaders_published_scores(glued):
    assert glued["text_vader_example"] == pytest.approx(0.8316, abs=1e-4)
    assert glued["text_vader_negated"] == pytest.approx(-0.7424, abs=1e-4)


def test_the_cache_and_the_cassette_answer_without_the_server(glued):
    assert glued["text_cache_server_hits"] == 1
    assert glued["text_cache_second_from_cache"] is True
    assert glued["text_vcr_replayed"] is True


def test_bots_are_the_datas_79(glued):
    assert glued["text_n_commits"] == 1331 and glued["text_n_bots"] == 79


def test_project_comparison_is_consistent(glued):
    assert glued["text_diff_low"] < glued["text_diff"] < glued["text_diff_high"]
    p, scipy_p = glued["text_p_projects"], glued["text_p_projects_scipy"]
    assert p == pytest.approx(scipy_p, abs=4 * np.sqrt(p * (1 - p) / 4000) + 1e-3)


def test_holm_keeps_no_more_than_the_raw_tests(glued):
    assert 0 <= glued["text_weekdays_holm"] <= glued["text_weekdays_raw"] <= 7


def test_pooling_quantities(glued):
    assert glued["text_tau"] >= 0
    assert glued["text_n_authors"] > 10
    assert 0 < glued["text_zero_share"] < 100


def test_the_hand_labels_are_read_and_compared(glued):
    """37 of the shipped 40 labels are neutral (data/commit_messages/README.md); each lexicon's
    agreement is a count out of 40."""
    assert glued["text_labels_neutral"] == 37
    assert 0 <= glued["text_agree_vader"] <= 40 and 0 <= glued["text_agree_domain"] <= 40

"""The reference solution of the text exercise agrees with the field's tools and closed forms.

- ``parse_catalogue`` reads the table pandas.read_html reads, by header, whatever the column order;
- ``polite_plan`` gives what the standard library's parser decides for the same robots.txt
  fetched over real HTTP from a local server;
- ``tokenise`` is idempotent: the tokens of its tokens joined are the same tokens;
- ``compound`` uses VADER's own negation scalar and normalisation, and equals VADER's
  compound score for single words of VADER's lexicon (Hutto & Gilbert 2014);
- the bootstrap interval is scipy.stats.bootstrap's percentile interval, and the permutation
  p-value scipy.stats.permutation_test's, within Monte Carlo error;
- partial pooling reduces to the team mean when the author means scatter no more than noise,
  and to the raw means when the noise vanishes;
- ``significant`` rejects what statsmodels' Holm correction rejects.
"""
import http.server
import io
import threading

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from vaderSentiment import vaderSentiment

ASSIGNMENT = "text"   # the `ref` fixture (conftest.py) runs its reference solution


def mean_difference(x, y, axis=-1):
    """The exercise's statistic, as scipy's resampling functions call it."""
    return x.mean(axis=axis) - y.mean(axis=axis)


def test_the_catalogue_is_the_table_pandas_reads(ref):
    ours = ref["parse_catalogue"](ref["TARGETS_PAGE"])
    (table,) = pd.read_html(io.StringIO(ref["TARGETS_PAGE"]), attrs={"class": "catalogue"}, na_values=["—"])
    assert [r["name"] for r in ours] == [name.strip() for name in table["Name"]]
    assert np.allclose([r["ra"] for r in ours], table["RA (deg)"])
    assert np.allclose([r["dec"] for r in ours], table["Dec (deg)"])
    assert np.allclose([np.nan if r["v"] is None else r["v"] for r in ours], table["V"], equal_nan=True)


@pytest.fixture
def site():
    """A local web server whose /robots.txt is the exercise's."""
    robots = None

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = robots.encode() if self.path == "/robots.txt" else b"not found"
            self.send_response(200 if self.path == "/robots.txt" else 404)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(text):
        nonlocal robots
        robots = text
        return f"http://127.0.0.1:{server.server_address[1]}"
    yield serve
    server.shutdown()


def test_the_plan_is_what_robotparser_decides_over_http(ref, site):
    import urllib.robotparser

    base = site(ref["ROBOTS_TXT"])
    parser = urllib.robotparser.RobotFileParser(base + "/robots.txt")
    parser.read()                                   # a real HTTP request to the local server
    urls = [base + path for path in ("/data/1.fits", "/private/a", "/search?q=x", "/", "/searching")]
    for agent in ("course-scraper/1.0", "BadBot", "other"):
        plan = ref["polite_plan"](ref["ROBOTS_TXT"], agent, urls)
        assert plan["fetch"] == [u for u in urls if parser.can_fetch(agent, u)]
        assert plan["delay"] == float(parser.crawl_delay(agent) or 1.0)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcXYZ019' #:/.-_\n")), max_size=60))
def test_tokenising_tokens_changes_nothing(ref, text):
    tokens = ref["tokenise"](text)
    assert ref["tokenise"](" ".join(tokens)) == tokens


def test_compound_uses_vaders_negation_and_normalisation(ref):
    assert vaderSentiment.N_SCALAR == -0.74
    for total in (-7.3, -1.0, 0.5, 3.1, 12.0):
        assert ref["compound"](["x"], {"x": total}, set()) == pytest.approx(vaderSentiment.normalize(total, alpha=15))


@pytest.mark.parametrize("word", ["good", "great", "bad", "hate", "love", "broken", "ugly"])
def test_compound_of_one_word_equals_vaders(ref, word):
    analyzer = vaderSentiment.SentimentIntensityAnalyzer()
    ours = ref["compound"]([word], analyzer.lexicon, set())
    assert ours == pytest.approx(analyzer.polarity_scores(word)["compound"], abs=1e-4)   # VADER rounds to 4 digits


def test_bootstrap_interval_is_scipys_percentile_interval(ref):
    rng = np.random.default_rng(11)
    a, b = rng.gamma(2.0, 1.0, 80), rng.normal(1.5, 1.0, 120)
    d, low, high = ref["bootstrap_difference"](a, b, 20_000, np.random.default_rng(12))
    theirs = stats.bootstrap((a, b), mean_difference, method="percentile", n_resamples=20_000,
                             random_state=13).confidence_interval
    se = np.sqrt(a.var() / 80 + b.var() / 120)
    assert d == pytest.approx(a.mean() - b.mean())
    assert low == pytest.approx(theirs.low, abs=0.05 * se) and high == pytest.approx(theirs.high, abs=0.05 * se)


@pytest.mark.parametrize("shift", [0.0, 0.4, -0.9])
def test_permutation_pvalue_is_scipys(ref, shift):
    rng = np.random.default_rng(20)
    a, b = rng.normal(shift, 1, 25), rng.normal(0, 1, 30)
    ours = ref["permutation_pvalue"](a, b, 20_000, np.random.default_rng(21))
    theirs = stats.permutation_test((a, b), mean_difference, n_resamples=20_000, random_state=22).pvalue
    assert ours == pytest.approx(theirs, abs=4 * np.sqrt(theirs * (1 - theirs) / 20_000) + 1e-4)


def test_pooling_limits(ref):
    rng = np.random.default_rng(30)
    flat = {f"a{k}": list(rng.normal(0.2, 1e-3, 3)) for k in range(6)}       # means scatter like noise of sigma 1
    estimates = ref["pooled_means"](flat, 1.0)
    team = np.mean(np.concatenate([v for v in flat.values()]))
    assert all(e == pytest.approx(team) for e in estimates.values())
    spread = {f"a{k}": [float(k)] * 4 for k in range(6)}                      # no noise: the raw means
    assert ref["pooled_means"](spread, 1e-9) == pytest.approx({k: v[0] for k, v in spread.items()})


@pytest.mark.parametrize("seed", range(6))
def test_significant_is_holms_correction(ref, seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 20), rng.uniform(0, 0.01, int(rng.integers(0, 6)))])
    names = [f"c{k}" for k in range(p.size)]
    reject = multipletests(p, alpha=0.05, method="holm")[0]
    assert ref["significant"](dict(zip(names, p.tolist()))) == sorted(n for n, r in zip(names, reject) if r)

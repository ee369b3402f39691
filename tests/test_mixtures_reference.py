"""The reference solution of the mixtures exercise reproduces published and closed-form results,
runs the chapter's EM, and its probes accept every correct method."""
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from autograder.values import decode


ASSIGNMENT = "mixtures"   # the `ref` fixture (conftest.py) runs its reference solution


def test_log_gaussian_is_the_normal_log_density(ref):
    x = np.linspace(-30, 30, 61)[:, None]
    assert np.allclose(ref["log_gaussian"](x, [0.0, 2.0], [1.0, 3.5]),
                       stats.norm.logpdf(x, [0.0, 2.0], [1.0, 3.5]), rtol=1e-12)


def test_em_reproduces_everitt_and_hothorn(ref):
    """Everitt & Hothorn (2010), HSAUR 2nd ed., ch. 8: the maximum-likelihood two-component
    mixture of the Old Faithful waiting times, p = 0.361, mu = (54.61, 80.09),
    sigma = (5.87, 5.87), -log L = 1034.002 (their L-BFGS-B run: 0.3608912, 54.6121380,
    5.8723776, 80.0934106, 5.8672829). Their optimiser stopped about 0.003 short of the
    exact optimum in the means, so we match the values they print to the digits printed
    (half a unit of the last digit), and the likelihood to its printed 1e-3, never worse."""
    fit = ref["fit_gmm"](ref["waiting"], [0.5, 0.5], [50.0, 80.0], [3.0, 3.0])
    weights, means, sigmas, log_like = fit["weights"], fit["means"], fit["sigmas"], fit["log_likelihoods"][-1]
    assert fit["status"] == "converged"
    assert weights[0] == pytest.approx(0.361, abs=5e-4)
    assert means == pytest.approx([54.61, 80.09], abs=5e-3)
    assert sigmas == pytest.approx([5.87, 5.87], abs=5e-3)
    assert -log_like == pytest.approx(1034.002, abs=1e-3)
    assert -log_like <= 1034.002, "EM must reach at least the optimum Everitt & Hothorn report"


def test_em_agrees_with_scikit_learn(ref):
    x = ref["waiting"]
    fit = ref["fit_gmm"](x, [0.5, 0.5], [50.0, 80.0], [5.0, 5.0])
    weights, means, sigmas = fit["weights"], fit["means"], fit["sigmas"]
    gm = GaussianMixture(2, tol=1e-12, max_iter=10_000, reg_covar=0.0,
                         means_init=[[50.0], [80.0]], random_state=0).fit(x[:, None])
    order = np.argsort(gm.means_.ravel())
    assert gm.weights_[order] == pytest.approx(weights, abs=1e-6)
    assert gm.means_.ravel()[order] == pytest.approx(means, abs=1e-5)
    assert np.sqrt(gm.covariances_.ravel()[order]) == pytest.approx(sigmas, abs=1e-5)


def test_m_step_with_hard_assignments_is_the_sample_mean_and_deviation(ref):
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    labels = (x > 0).astype(int)
    weights, means, sigmas = ref["m_step"](x, np.eye(2)[labels])
    for k in (0, 1):
        assert means[k] == pytest.approx(x[labels == k].mean())
        assert sigmas[k] == pytest.approx(x[labels == k].std(ddof=0))
        assert weights[k] == pytest.approx(np.mean(labels == k))


def test_outlier_likelihood_reduces_to_the_gaussian_line_fit_and_to_the_background(ref):
    x, y, sy = ref["x_hogg"], ref["y_hogg"], ref["sy_hogg"]
    line = stats.norm.logpdf(y, 2.24 * x + 34, sy).sum()
    assert ref["outlier_log_likelihood"]((2.24, 34, 0.0, 400, 1e4), x, y, sy) == pytest.approx(line, rel=1e-12)
    background = stats.norm.logpdf(y, 400, np.sqrt(1e4 + sy**2)).sum()
    assert ref["outlier_log_likelihood"]((2.24, 34, 1.0, 400, 1e4), x, y, sy) == pytest.approx(background, rel=1e-12)


def test_outlier_probabilities_are_bayes_theorem(ref):
    x, y, sy = ref["x_hogg"], ref["y_hogg"], ref["sy_hogg"]
    theta = (2.1, 40.0, 0.15, 450.0, 2.0e4)
    good = 0.85 * stats.norm.pdf(y, 2.1 * x + 40, sy)
    bad = 0.15 * stats.norm.pdf(y, 450, np.sqrt(2.0e4 + sy**2))
    assert ref["outlier_probability"](theta, x, y, sy) == pytest.approx(bad / (good + bad), rel=1e-10)


# --- Q4: the same EM as the chapter's, with its convergence test and collapse guard ---------

@pytest.fixture(scope="module")
def em_gmm():
    """The chapter's own `em_gmm` (book/mixtures.md), run from the chapter's code cell."""
    text = (Path(__file__).parent.parent / "book" / "mixtures.md").read_text(encoding="utf-8")
    (cell,) = [c for c in re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, re.S) if "def em_gmm(" in c]
    namespace = {"np": np, "logsumexp": logsumexp}
    exec(cell, namespace)
    return namespace["em_gmm"]


def test_fit_gmm_stops_where_the_chapters_em_gmm_stops(ref, em_gmm):
    """Same starts as the chapter (quartiles, nearly symmetric, collapsing onto the 96-minute
    wait) and a three-component one: the same status, the same history of ln L, entry by
    entry, and the same parameters. tol = 1e-6 keeps every stop far above round-off."""
    x = ref["waiting"]
    sd = x.std()
    starts = [([0.5, 0.5], np.percentile(x, [25, 75]), [sd, sd]), ([0.5, 0.5], [70.0, 71.0], [sd, sd]),
              ([0.1, 0.9], [96.0, 70.0], [0.5, sd]), ([0.2, 0.3, 0.5], [50.0, 60.0, 80.0], [sd, sd, sd])]
    statuses = []
    for weights, means, sigmas in starts:
        ours = ref["fit_gmm"](x, weights, means, sigmas, tol=1e-6)
        chapter = em_gmm(x, weights, means, sigmas, tol=1e-6)
        statuses.append(ours["status"])
        assert ours["status"] == chapter["status"]
        assert ours["log_likelihoods"] == pytest.approx(chapter["loglike"], rel=1e-12)
        for key, theirs in (("weights", "weights"), ("means", "means"), ("sigmas", "sds")):
            assert ours[key] == pytest.approx(chapter[theirs], rel=1e-9, abs=1e-12)
    assert statuses == ["converged", "converged", "collapsed", "converged"]


def test_a_collapse_stops_before_the_likelihood_of_the_collapsed_component(ref):
    """The chapter's collapsing start: the first M-step leaves the narrow component 0.14 min
    wide; the second shrinks it onto the single 96-minute wait, far below min_sigma."""
    fit = ref["fit_gmm"](ref["waiting"], [0.1, 0.9], [96.0, 70.0], [0.5, ref["waiting"].std()])
    assert fit["status"] == "collapsed"
    assert fit["log_likelihoods"].size == 2
    assert fit["sigmas"][0] < 1e-6 and fit["means"][0] == pytest.approx(96.0)
    assert ref["fit_gmm"](ref["waiting"], [0.1, 0.9], [96.0, 70.0], [0.5, ref["waiting"].std()],
                          max_iter=1)["sigmas"][0] == pytest.approx(0.1416, abs=1e-4)


def test_max_iter_counts_m_steps(ref):
    fit = ref["fit_gmm"](ref["waiting"], [0.5, 0.5], [50.0, 80.0], [5.0, 5.0], max_iter=3)
    assert fit["status"] == "max_iter reached" and fit["log_likelihoods"].size == 4
    assert np.all(np.diff(fit["log_likelihoods"]) > 0)


# The probes whose whole history is compared, and the tol each ran with: every correct
# answer must stop at the same M-step, so the stopping gain must lie far from tol.
WHOLE_HISTORY_TOL = {"three-components-max-iter": None, "faithful-tol-1e-5": 1e-5, "saddle-tol-1e-2": 1e-2,
                     "collapse": None, "far-start": 1e-10}


def test_recorded_histories_stop_far_from_their_tolerance(reference):
    """From the oracle itself: at each converged stop the gain before is at least 1.2 tol and
    the last gain at most tol / 1.2, so round-off cannot move the stop by one M-step."""
    _, oracle = reference("mixtures")
    recorded = {name: decode(p["value"]) for name, p in oracle.probes["q4"].items()}
    assert set(WHOLE_HISTORY_TOL) <= set(recorded)
    for name, tol in WHOLE_HISTORY_TOL.items():
        status, *_, history = recorded[name]
        assert status == ("converged" if tol else {"collapse": "collapsed"}.get(name, "max_iter reached")), name
        if tol:
            gains = np.diff(history)
            assert gains[-1] <= tol / 1.2 and np.all(gains[:-1] >= 1.2 * tol), (name, gains[-2:] / tol)


def test_far_start_probe_underflows_without_logs(ref):
    """The far-start probe's data: exp(ln pi_k + ln N) is 0 for every point and component at
    the start, so only log-sum-exp can give its responsibilities and ln L."""
    rng = np.random.default_rng(2010)
    v = np.concatenate([rng.normal(-40.0, 4.0, 60), rng.normal(71.0, 4.0, 40)])
    log_joint = np.log(0.5) + ref["log_gaussian"](v[:, None], [0.0, 30.0], [0.5, 0.5])
    assert np.all(np.exp(log_joint) == 0.0)
    fit = ref["fit_gmm"](v, [0.5, 0.5], [0.0, 30.0], [0.5, 0.5])
    assert fit["status"] == "converged" and np.all(np.isfinite(fit["log_likelihoods"]))
    assert fit["means"] == pytest.approx([v[:60].mean(), v[60:].mean()], rel=1e-12)


# --- the probes accept every correct method ----------------------------------------------------

ALTERNATIVES = {
    # scipy's softmax normalises each row in log space
    "q2-answer": """
from scipy.special import softmax

def responsibilities(log_joint):
    return softmax(np.asarray(log_joint, float), axis=1)
""",
    # scipy.stats densities, np.logaddexp.reduce, a while loop, a list for the history, a
    # convergence test written as new < old + tol, and a return from inside the loop
    "q4-answer": """
from scipy import stats

def fit_gmm(x, weights, means, sigmas, tol=1e-10, max_iter=5000, min_sigma=1e-6):
    x = np.asarray(x, float)
    w, m, s = (np.array(p, float) for p in (weights, means, sigmas))

    def log_terms(w, m, s):
        return np.log(w) + stats.norm.logpdf(x[:, None], m, s)

    terms = log_terms(w, m, s)
    history = [float(np.sum(np.logaddexp.reduce(terms, axis=1)))]
    steps = 0
    while steps < max_iter:
        steps += 1
        r = np.exp(terms - np.logaddexp.reduce(terms, axis=1, keepdims=True))
        n_k = r.sum(axis=0)
        w, m = n_k / len(x), (r * x[:, None]).sum(axis=0) / n_k
        s = np.sqrt((r * (x[:, None] - m) ** 2).sum(axis=0) / n_k)
        if (s < min_sigma).any():
            return dict(weights=w, means=m, sigmas=s, log_likelihoods=history, status="collapsed")
        terms = log_terms(w, m, s)
        history.append(float(np.sum(np.logaddexp.reduce(terms, axis=1))))
        if history[-1] < history[-2] + tol:
            return dict(weights=w, means=m, sigmas=s, log_likelihoods=history, status="converged")
    return dict(weights=w, means=m, sigmas=s, log_likelihoods=history, status="max_iter reached")
""",
    # the natural route: the student's own fit_gmm (here the alternative above) and
    # log_gaussian, folds as a boolean mask, scores collected in a list
    "q7-answer": """
def choose_k_by_heldout(x, k_values, n_folds, seed):
    x = np.asarray(x, float)
    folds = np.array_split(np.random.default_rng(seed).permutation(len(x)), n_folds)
    scores = []
    for k in k_values:
        total = 0.0
        for fold in folds:
            held = np.zeros(len(x), bool)
            held[fold] = True
            train = x[~held]
            fit = fit_gmm(train, np.ones(k) / k, np.quantile(train, (np.arange(k) + 0.5) / k),
                          np.ones(k) * train.std(), tol=1e-6)
            if fit["status"] == "collapsed":
                total = -np.inf
                break
            terms = np.log(fit["weights"]) + log_gaussian(x[held][:, None], fit["means"], fit["sigmas"])
            total += logsumexp(terms, axis=1).sum()
        scores.append(total / len(x))
    best = int(np.argmax(scores))
    return int(k_values[best]), np.array(scores)
""",
}


def test_other_correct_methods_earn_full_marks(grade_with_answers):
    results = grade_with_answers("mixtures", ALTERNATIVES)
    assert [(r.id, r.points, r.status) for r in results] == \
        [(q, points, "passed") for q, points in (("q1", 1), ("q2", 2), ("q3", 2), ("q4", 2), ("q5", 2), ("q6", 1),
                                                             ("q7", 1))]


# --- Q7: choosing K by held-out likelihood -------------------------------------------------------

def _three_clusters():
    rng = np.random.default_rng(7)
    return np.concatenate([rng.normal(-6.0, 1.0, 15), rng.normal(0.0, 1.0, 15), rng.normal(6.0, 1.0, 15)])


def test_heldout_choice_uses_the_same_em_as_fit_gmm(ref):
    """Q7's self-contained EM (so that a wrong Q4 cannot cost Q7 its points in the reference)
    gives the same held-out scores as the same recipe written with the reference fit_gmm."""
    x = _three_clusters()
    k_values, n_folds, seed = [1, 2, 3, 4], 3, 0
    _, scores = ref["choose_k_by_heldout"](x, k_values, n_folds, seed)
    folds = np.array_split(np.random.default_rng(seed).permutation(x.size), n_folds)
    expected = []
    for k in k_values:
        total = 0.0
        for fold in folds:
            train = np.delete(x, fold)
            fit = ref["fit_gmm"](train, np.full(k, 1.0 / k), np.quantile(train, (np.arange(k) + 0.5) / k),
                                 np.full(k, train.std()), tol=1e-6)
            total += logsumexp(np.log(fit["weights"]) + stats.norm.logpdf(x[fold][:, None], fit["means"],
                                                                          fit["sigmas"]), axis=1).sum()
        expected.append(total / x.size)
    assert scores == pytest.approx(expected, rel=1e-10)


def test_heldout_likelihood_picks_the_true_k_where_training_likelihood_picks_the_largest(ref):
    x = _three_clusters()
    best, scores = ref["choose_k_by_heldout"](x, [1, 2, 3, 4], 3, 0)
    assert best == 3 and np.argmax(scores) == 2
    train = [ref["fit_gmm"](x, np.full(k, 1.0 / k), np.quantile(x, (np.arange(k) + 0.5) / k),
                            np.full(k, x.std()), tol=1e-6)["log_likelihoods"][-1] for k in (1, 2, 3, 4)]
    assert np.all(np.diff(train) > 0), "the training likelihood grows with K, so it would pick K = 4"

"""The reference solution of the sampling exercise reproduces closed forms and the field's libraries.

- Metropolis-Hastings samples its target: a Gamma(3, 1) (mean 3, variance 3) through the
  asymmetric log-normal proposal, and a correlated Gaussian through the random walk;
- the autocorrelation of an AR(1) series is rho^t and its integrated time (1 + rho)/(1 - rho);
  the windowed estimate equals emcee's ``autocorr.integrated_time`` to rounding;
- the rank-normalised split-R-hat and the bulk ESS equal ArviZ's (Vehtari et al. 2021) on
  every shape of input the exercise allows;
- with a posterior that is a point, the posterior predictive p-value of the chi2 discrepancy is
  the chi2 tail probability.
"""
import emcee
import numpy as np
import pytest
from scipy import stats

ASSIGNMENT = "sampling"   # the `ref` fixture (conftest.py) runs its reference solution


def chain_of_steps(ref, log_prob, x0, scale, n, seed):
    rng, x, draws = np.random.default_rng(seed), np.asarray(x0, float), []
    for _ in range(n):
        x, _ = ref["mh_step_positive"](log_prob, x, scale, rng)
        draws.append(x)
    return np.array(draws)


def test_log_normal_steps_sample_a_gamma_target(ref):
    """Gamma(3, 1): mean 3 and variance 3, within 4 Monte Carlo errors (ESS = n / tau)."""
    draws = chain_of_steps(ref, ref["log_gamma3"], [3.0], 0.8, 60_000, 10)[:, 0]
    error = np.sqrt(3.0 * ref["integrated_time"](draws) / draws.size)
    assert draws.mean() == pytest.approx(3.0, abs=4 * error)
    assert draws.var() == pytest.approx(3.0, rel=0.1)


def test_the_proposal_ratio_is_what_makes_it_right(ref):
    """Without x'/x the same proposals sample p(x)/x, a Gamma(2, 1) with mean 2: the test above
    can tell the two apart."""
    def no_ratio_step(log_prob, x, scale, rng):
        x_new = x * np.exp(scale * rng.standard_normal(x.shape))
        return (x_new, True) if np.log(rng.uniform()) < log_prob(x_new) - log_prob(x) else (x, False)

    biased = chain_of_steps({"mh_step_positive": no_ratio_step}, ref["log_gamma3"], [3.0], 0.8, 60_000, 10)
    assert biased.mean() == pytest.approx(2.0, abs=0.1)


def test_metropolis_samples_a_correlated_gaussian(ref):
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    prec = np.linalg.inv(cov)
    chain, acceptance = ref["metropolis"](lambda x: -0.5 * x @ prec @ x, np.zeros(2), 1.0, 50_000, 3)
    assert chain.shape == (50_000, 2) and 0.2 < acceptance < 0.7
    assert np.allclose(chain.mean(axis=0), 0.0, atol=0.06)
    assert np.allclose(np.cov(chain.T), cov, atol=0.06)


def test_autocorrelation_is_the_direct_sum(ref):
    x = np.random.default_rng(4).standard_normal(257).cumsum()
    d = x - x.mean()
    direct = np.array([np.sum(d[: d.size - t] * d[t:]) for t in range(d.size)]) / np.sum(d**2)
    assert np.allclose(ref["autocorrelation"](x), direct, atol=1e-12)


def test_ar1_autocorrelation_is_rho_to_the_lag(ref):
    rho = ref["autocorrelation"](ref["ar1"](0.8, 200_000, 5))
    assert np.allclose(rho[:6], 0.8 ** np.arange(6), atol=0.01)


@pytest.mark.parametrize("phi", [0.5, 0.9, 0.97])
def test_integrated_time_of_ar1_is_the_closed_form(ref, phi):
    """tau = (1 + phi)/(1 - phi) for AR(1), within the estimator's own error
    (Sokal: var(tau) / tau^2 = 2 (2M + 1) / n with M ~ 5 tau)."""
    n = 200_000
    tau = ref["integrated_time"](ref["ar1"](phi, n, 6))
    exact = (1 + phi) / (1 - phi)
    assert tau == pytest.approx(exact, rel=3 * np.sqrt(2 * (10 * exact + 1) / n))


@pytest.mark.parametrize("seed", range(5))
def test_integrated_time_equals_emcees(ref, seed):
    rng = np.random.default_rng(seed)
    x = ref["ar1"](rng.uniform(0, 0.99), int(rng.integers(200, 20_000)), seed)
    c = rng.uniform(3, 10)
    assert ref["integrated_time"](x, c=c) == pytest.approx(
        emcee.autocorr.integrated_time(x, c=c, quiet=True)[0], rel=1e-12)


def chains_of_every_kind():
    """Inputs of the shapes the exercise allows: 1-5 chains, odd and even lengths, ties,
    heavy tails, shifted chains, from near-independent to strongly correlated."""
    rng = np.random.default_rng(2021)
    for i in range(40):
        m, n = int(rng.integers(1, 6)), int(rng.integers(8, 1500))
        phi = rng.uniform(-0.5, 0.995)
        e = rng.standard_normal((m, n))
        x = np.empty_like(e)
        x[:, 0] = e[:, 0]
        for t in range(1, n):
            x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * e[:, t]
        x += rng.normal(0, 0.5, (m, 1)) * (i % 3 == 0)
        if i % 5 == 1:
            x = np.round(x, 1)
        if i % 5 == 2:
            x = np.tan(0.98 * np.pi * (stats.norm.cdf(x) - 0.5))
        yield x


def test_split_rhat_equals_arviz(ref):
    import arviz as az
    for chains in chains_of_every_kind():
        if chains.shape[0] > 1:
            assert ref["split_rhat"](chains) == pytest.approx(az.rhat(chains, method="rank"), rel=1e-12)


def test_ess_bulk_equals_arviz(ref):
    import arviz as az
    for chains in chains_of_every_kind():
        assert ref["ess_bulk"](chains) == pytest.approx(az.ess(chains, method="bulk"), rel=1e-10)


def test_split_rhat_catches_what_plain_rhat_misses(ref):
    """Four chains drifting together: the halves disagree (Vehtari et al. 2021, section 4.1)."""
    import arviz as az
    drifting = np.random.default_rng(7).standard_normal((4, 1000)) + np.linspace(0, 2, 1000)
    assert az.rhat(drifting, method="identity") < 1.01 < ref["split_rhat"](drifting)


def test_diagnose_decisions(ref):
    ar1 = ref["ar1"]
    assert ref["diagnose"](ar1(0.5, 2000, 1, n_chains=4), 0) == {"trust": True, "problems": []}
    assert ref["diagnose"](ar1(0.5, 2000, 1, n_chains=4), 1) == {"trust": False, "problems": ["divergences"]}
    assert ref["diagnose"](ar1(0.995, 1000, 2, n_chains=4), 0) == \
        {"trust": False, "problems": ["chains-disagree", "too-few-effective-draws"]}


def test_ppc_pvalue_with_a_point_posterior_is_the_chi2_tail(ref):
    """If every draw is the truth, T(y_rep) ~ chi2_N, so p = Pr(chi2_N >= T(y))."""
    rng = np.random.default_rng(8)
    sigma = rng.uniform(0.5, 2.0, 20)
    truth = rng.normal(0, 3, 20)
    for shift in (0.0, 0.5, 1.0):
        y = truth + sigma * (rng.standard_normal(20) + shift)
        p = ref["ppc_pvalue"](y, sigma, np.tile(truth, (40_000, 1)), 9)
        exact = stats.chi2.sf(np.sum(((y - truth) / sigma) ** 2), 20)
        assert p == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 40_000) + 1e-4)


# --- the probes accept every correct method ----------------------------------------------------

OTHER_METHODS = {
    # the acceptance test u < p(x') q(x | x') / (p(x) q(x' | x)) written with exp
    "q1-answer": '''
def mh_step_positive(log_prob, x, scale, rng):
    proposal = x * np.exp(scale * rng.standard_normal(np.shape(x)))
    ratio = np.exp(log_prob(proposal) - log_prob(x)) * np.prod(proposal / x)
    return (proposal, True) if rng.uniform() < ratio else (x, False)
''',
    # a list of states, log_prob recomputed at every step
    "q2-answer": '''
def metropolis(log_prob, x0, step, n_steps, seed):
    rng = np.random.default_rng(seed)
    x, states, moves = np.asarray(x0, float), [], 0
    for _ in range(n_steps):
        proposal = x + step * rng.standard_normal(len(x))
        if np.log(rng.uniform()) < log_prob(proposal) - log_prob(x):
            x, moves = proposal, moves + 1
        states.append(x)
    return np.array(states), moves / n_steps
''',
    # the direct sum, no FFT
    "q3-answer": '''
def autocorrelation(x):
    d = np.asarray(x, float) - np.mean(x)
    return np.array([d[: d.size - t] @ d[t:] for t in range(d.size)]) / (d @ d)
''',
    # Q3's function and a loop over windows
    "q4-answer": '''
def integrated_time(x, c=5.0):
    rho = autocorrelation(x)
    tau = 1.0
    for m in range(1, len(rho)):
        tau += 2 * rho[m]
        if m >= c * tau:
            return float(tau)
    return float(tau)
''',
    # Q5 and Q6 are ArviZ's, as the questions say
    "q5-answer": '''
import arviz as az

def split_rhat(chains):
    return float(az.rhat(np.asarray(chains, float), method="rank"))
''',
    "q6-answer": '''
def ess_bulk(chains):
    import arviz as az
    return float(az.ess(np.asarray(chains, float), method="bulk"))
''',
    # Q5's and Q6's functions, as the question suggests
    "q7-answer": '''
def diagnose(chains, n_divergent):
    problems = [name for name, bad in [("chains-disagree", split_rhat(chains) >= 1.01),
                                       ("too-few-effective-draws", ess_bulk(chains) < 100 * len(chains)),
                                       ("divergences", n_divergent > 0)] if bad]
    return {"trust": len(problems) == 0, "problems": problems}
''',
    "q8-answer": '''
def ppc_pvalue(y, sigma, mu_draws, seed):
    rng = np.random.default_rng(seed)
    replicated = mu_draws + sigma * rng.standard_normal(np.shape(mu_draws))
    chi2 = lambda data: np.sum(((data - mu_draws) / sigma) ** 2, axis=-1)
    return float(np.count_nonzero(chi2(replicated) >= chi2(y)) / len(mu_draws))
''',
}

FULL_MARKS = [("q1", 1.0), ("q2", 1.0), ("q3", 1.0), ("q4", 2.0), ("q5", 2.0), ("q6", 2.0),
              ("q7", 2.0), ("q8", 1.0)]


def test_other_correct_methods_earn_full_marks(grade_with_answers):
    results = grade_with_answers(ASSIGNMENT, OTHER_METHODS)
    assert [(r.id, r.points, r.max_points, r.status, r.message) for r in results] == \
        [(q, p, p, "passed", "") for q, p in FULL_MARKS]

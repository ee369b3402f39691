"""The reference solution of the hierarchical exercise reproduces published and closed-form results."""
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats


ASSIGNMENT = "hierarchical"   # the `ref` fixture (conftest.py) runs its reference solution


def test_pooled_estimate_is_bda3s(ref):
    """BDA3 section 5.5, Table 5.2's values: 7.7 with posterior variance 16.6."""
    mean, sd = ref["pooled_estimate"](ref["y_schools"], ref["sigma_schools"])
    assert round(mean, 1) == 7.7 and round(sd**2, 1) == 16.6
    w = 1 / ref["sigma_schools"] ** 2
    assert mean == pytest.approx(np.average(ref["y_schools"], weights=w), rel=1e-12)


def test_conditional_posterior_is_the_normalised_product_of_likelihood_and_population(ref):
    """Brute force on a grid of theta: N(y | theta, sigma^2) N(theta | mu, tau^2)."""
    y, sigma, mu, tau = np.array([28.0, -3.0]), np.array([15.0, 16.0]), 7.7, 10.0
    means, sds = ref["conditional_posterior"](y, sigma, mu, tau)
    grid = np.linspace(-100, 150, 200_001)
    for j in range(2):
        density = stats.norm.pdf(y[j], grid, sigma[j]) * stats.norm.pdf(grid, mu, tau)
        density /= integrate.trapezoid(density, grid)
        mean = integrate.trapezoid(grid * density, grid)
        assert means[j] == pytest.approx(mean, abs=1e-6)
        assert sds[j] == pytest.approx(np.sqrt(integrate.trapezoid((grid - mean) ** 2 * density, grid)), abs=1e-6)


def test_log_posterior_tau_is_the_integral_over_mu(ref):
    """ln p(tau | y) = ln of the integral over mu of prod_j N(y_j | mu, sigma_j^2 + tau^2),
    up to one constant (2 pi factors): integrate numerically and compare differences."""
    y, sigma = ref["y_schools"], ref["sigma_schools"]
    taus = np.array([0.0, 2.0, 5.0, 10.0, 25.0])

    def integrated(tau):
        def f(mu):
            return np.exp(np.sum(stats.norm.logpdf(y, mu, np.sqrt(sigma**2 + tau**2))) + 30.0)
        return np.log(integrate.quad(f, -200, 200, points=[8.0], limit=200)[0])

    brute = np.array([integrated(t) for t in taus])
    ours = ref["log_posterior_tau"](taus, y, sigma)
    assert np.allclose(np.diff(ours), np.diff(brute), atol=1e-8)


def test_p_tau_shape_is_bda3_figure_5_5(ref):
    grid = np.linspace(0.0, 40.0, 4001)
    lp = ref["log_posterior_tau"](grid, ref["y_schools"], ref["sigma_schools"])
    assert np.argmax(lp) == 0 and np.all(np.diff(lp) < 0)
    p = np.exp(lp - lp.max())
    assert 0.25 < p[1000] < 0.5                                  # p(10 | y) / p(0 | y)
    assert integrate.trapezoid(p[2500:], grid[2500:]) / integrate.trapezoid(p, grid) < 0.02   # tau > 25


def test_draws_reproduce_the_exact_posterior(ref):
    """20 000 draws: the mean of tau and of mu agree with the grid integrals to Monte Carlo
    accuracy, and school A's median is BDA3 Table 5.3's 10 points."""
    y, sigma = ref["y_schools"], ref["sigma_schools"]
    grid = np.linspace(0.0, 40.0, 4001)
    tau, mu, theta = ref["draw_posterior"](y, sigma, grid, 20_000, 5)
    lp = ref["log_posterior_tau"](grid, y, sigma)
    p = np.exp(lp - lp.max())
    p /= integrate.trapezoid(p, grid)
    var = sigma**2 + grid[:, None] ** 2
    mu_hat = np.sum(y / var, axis=1) / np.sum(1 / var, axis=1)
    assert tau.mean() == pytest.approx(integrate.trapezoid(grid * p, grid), abs=0.15)
    assert mu.mean() == pytest.approx(integrate.trapezoid(mu_hat * p, grid), abs=0.15)
    assert np.median(theta[:, 0]) == pytest.approx(10.0, abs=1.0)


def test_draws_at_tau_zero_equal_mu(ref):
    tau, mu, theta = ref["draw_posterior"](ref["y_schools"], ref["sigma_schools"], np.array([0.0]), 50, 1)
    assert np.all(tau == 0) and np.allclose(theta, mu[:, None])


@pytest.mark.parametrize("omega_m", [0.05, 0.3, 0.7, 1.0])
def test_distance_modulus_matches_the_hypergeometric_closed_form(ref, omega_m):
    """Flat LambdaCDM: int dx (Om x^3 + OL)^(-1/2) = x OL^(-1/2) 2F1(1/3, 1/2; 4/3; -Om x^3/OL);
    for Omega_m = 1, the Einstein-de Sitter 2 (1 - 1/sqrt(1 + z))."""
    z = np.array([0.01, 0.3, 1.0, 2.5])
    if omega_m == 1.0:
        comoving = 2 * (1 - 1 / np.sqrt(1 + z))
    else:
        ol = 1 - omega_m
        f = lambda x: x * special.hyp2f1(1 / 3, 1 / 2, 4 / 3, -omega_m * x**3 / ol) / np.sqrt(ol)
        comoving = f(1 + z) - f(1.0)
    assert ref["distance_modulus"](z, omega_m) == pytest.approx(5 * np.log10((1 + z) * comoving), abs=1e-9)


def test_chi2_marginalised_is_the_minimum_over_the_offset(ref):
    """a - b^2/c equals chi2 minimised numerically over the offset M, with the full covariance."""
    z, mu, cov = ref["z_jla"], ref["mu_jla"], ref["cov_jla"]
    model = ref["distance_modulus"](z, 0.3)
    r = mu - model
    full = lambda m: (r - m) @ np.linalg.solve(cov, r - m)
    assert ref["chi2_marginalised"](model, mu, cov) == pytest.approx(optimize.minimize_scalar(full).fun, rel=1e-9)


def test_omega_m_reproduces_betoule2014(ref):
    """Betoule et al. (2014), A&A 568, A22: Omega_m = 0.295 +/- 0.034 (JLA, flat LambdaCDM)."""
    mean, sd = ref["omega_m_posterior"](ref["z_jla"], ref["mu_jla"], ref["cov_jla"], np.linspace(0.1, 0.55, 226))
    assert mean == pytest.approx(0.295, abs=0.004)
    assert sd == pytest.approx(0.034, abs=0.001)


# --- the probes accept every correct method ----------------------------------------------------

DISTANCE_MODULI = {
    # the chapter's closed form (it needs Omega_Lambda > 0: no check uses Omega_m = 1)
    "hypergeometric": '''
from scipy import special

def distance_modulus(z, omega_m):
    z = np.atleast_1d(np.asarray(z, float))
    omega_l = 1.0 - omega_m
    def antiderivative(x):
        return x * special.hyp2f1(1 / 3, 1 / 2, 4 / 3, -omega_m * x**3 / omega_l) / np.sqrt(omega_l)
    return 5.0 * np.log10((1.0 + z) * (antiderivative(1.0 + z) - antiderivative(1.0)))
''',
    # an ODE solver at rtol 1e-8: about 1e-7 mag off, which a tolerance relative to mu rejected
    "ode": '''
def distance_modulus(z, omega_m):
    z = np.atleast_1d(np.asarray(z, float))
    order = np.argsort(z)
    solution = integrate.solve_ivp(lambda zp, d: 1.0 / np.sqrt(omega_m * (1.0 + zp) ** 3 + 1.0 - omega_m),
                                   (0.0, z[order][-1]), [0.0], t_eval=z[order], rtol=1e-8, atol=1e-14)
    comoving = np.empty_like(z)
    comoving[order] = solution.y[0]
    return 5.0 * np.log10((1.0 + z) * comoving)
''',
    # the chapter's code: quad bin by bin, added up in order of redshift
    "bin-by-bin": '''
def distance_modulus(z, omega_m):
    z = np.atleast_1d(np.asarray(z, float))
    order = np.argsort(z)
    def inverse_e(zp):
        return 1.0 / np.sqrt(omega_m * (1.0 + zp) ** 3 + 1.0 - omega_m)
    edges = np.concatenate([[0.0], z[order]])
    comoving = np.empty_like(z)
    comoving[order] = np.cumsum([integrate.quad(inverse_e, a, b)[0] for a, b in zip(edges[:-1], edges[1:])])
    return 5.0 * np.log10((1.0 + z) * comoving)
''',
}

OTHER_METHODS = {
    "q1-answer": '''
def pooled_estimate(y, sigma):
    w = 1.0 / np.asarray(sigma, float) ** 2
    return float(np.average(y, weights=w)), float(np.sum(w) ** -0.5)
''',
    # the shrinkage form of the conditional posterior
    "q2-answer": '''
def conditional_posterior(y, sigma, mu, tau):
    y, sigma = np.asarray(y, float), np.asarray(sigma, float)
    shrink = sigma**2 / (sigma**2 + tau**2)
    return (1 - shrink) * y + shrink * mu, np.sqrt((1 - shrink) * sigma**2)
''',
    # normalised densities: ln of the integral over mu, with its 2 pi factors (a constant)
    "q3-answer": '''
from scipy import stats

def log_posterior_tau(tau, y, sigma):
    var = sigma**2 + np.asarray(tau, float)[:, None] ** 2
    v_mu = 1.0 / np.sum(1.0 / var, axis=1)
    mu_hat = v_mu * np.sum(y / var, axis=1)
    return 0.5 * np.log(2 * np.pi * v_mu) + np.sum(stats.norm.logpdf(y, mu_hat[:, None], np.sqrt(var)), axis=1)
''',
    # Q3's function for the weights, as the question suggests
    "q4-answer": '''
def draw_posterior(y, sigma, tau_grid, n_draws, seed):
    rng = np.random.default_rng(seed)
    log_post = log_posterior_tau(tau_grid, y, sigma)
    w = np.exp(log_post - log_post.max())
    tau = rng.choice(np.asarray(tau_grid, float), size=n_draws, p=w / w.sum())
    var = sigma**2 + tau[:, None] ** 2
    v_mu = 1.0 / np.sum(1.0 / var, axis=1)
    mu = rng.normal(v_mu * np.sum(y / var, axis=1), np.sqrt(v_mu))
    b = sigma**2 / var
    return tau, mu, rng.normal((1 - b) * y + b * mu[:, None], np.sqrt((1 - b) * sigma**2))
''',
    # chi2 minimised numerically over the offset M
    "q6-answer": '''
def chi2_marginalised(mu_model, mu, cov):
    r = np.asarray(mu, float) - np.asarray(mu_model, float)
    chi2 = lambda m: (r - m) @ np.linalg.solve(cov, r - m)
    return float(optimize.minimize_scalar(chi2).fun)
''',
    # Q5's and Q6's functions, as the question says
    "q7-answer": '''
def omega_m_posterior(z, mu, cov, grid):
    grid = np.asarray(grid, float)
    chi2 = np.array([chi2_marginalised(distance_modulus(z, om), mu, cov) for om in grid])
    post = np.exp(-0.5 * (chi2 - chi2.min()))
    mean = integrate.trapezoid(grid * post, grid) / integrate.trapezoid(post, grid)
    var = integrate.trapezoid((grid - mean) ** 2 * post, grid) / integrate.trapezoid(post, grid)
    return float(mean), float(np.sqrt(var))
''',
    # the half-chains written out, the variances summed by hand, the choice by sorting
    "q8-answer": '''
def non_centred_theta(mu, log_tau, eta):
    return np.reshape(mu, (-1, 1)) + np.exp(np.reshape(log_tau, (-1, 1))) * np.asarray(eta, float)

def split_rhat(chains):
    chains = np.asarray(chains, float)
    m, n_all = chains.shape
    n = n_all // 2
    halves = np.vstack([chains[:, :n], chains[:, n_all - n:]])
    means = halves.mean(axis=1)
    w = np.sum((halves - means[:, None]) ** 2) / (2 * m * (n - 1))
    b = n * np.sum((means - means.mean()) ** 2) / (2 * m - 1)
    return float(np.sqrt(((n - 1) * w / n + b / n) / w))

def choose_parameterisation(runs):
    ranked = sorted((split_rhat(c), name) for name, c in runs.items())
    return ranked[0][1] if ranked[0][0] < 1.01 else None
''',
}

FULL_MARKS = [("q1", 1.0), ("q2", 1.0), ("q3", 2.0), ("q4", 2.0), ("q5", 1.0), ("q6", 2.0), ("q7", 1.0), ("q8", 2.0)]


@pytest.mark.parametrize("method", DISTANCE_MODULI)
def test_other_correct_methods_earn_full_marks(grade_with_answers, method):
    """Each distance modulus with every other alternative (Q7 calls the submission's Q5 and Q6)."""
    results = grade_with_answers(ASSIGNMENT, {"q5-answer": DISTANCE_MODULI[method], **OTHER_METHODS})
    assert [(r.id, r.points, r.max_points, r.status, r.message) for r in results] == \
        [(q, p, p, "passed", "") for q, p in FULL_MARKS]


def test_ode_distance_modulus_is_a_real_test_of_the_tolerance(ref):
    """The ODE answer differs from quad by more than the old tolerance relative to mu allowed
    (1e-7 |mu|, 9e-9 mag in the bin nearest d_L = 1) and by less than the 1e-6 mag now used."""
    namespace = {"np": np, "integrate": integrate}
    exec(DISTANCE_MODULI["ode"], namespace)
    ours, theirs = ref["distance_modulus"](ref["z_jla"], 0.3), namespace["distance_modulus"](ref["z_jla"], 0.3)
    assert not np.allclose(theirs, ours, rtol=1e-7, atol=1e-10)
    assert 2e-8 < np.max(np.abs(theirs - ours)) < 1e-6


def test_split_rhat_is_arviz_split_rhat(ref):
    """The classic split-R-hat (no rank normalisation) of ArviZ, on mixing and on stuck chains."""
    import arviz as az

    rng = np.random.default_rng(3)
    for chains in (rng.normal(size=(4, 500)), rng.normal(size=(4, 501)) + np.array([0, 0, 0, 1.0])[:, None]):
        assert ref["split_rhat"](chains) == pytest.approx(float(az.rhat(chains, method="split")), rel=1e-10)


def test_non_centred_theta_has_the_population_distribution(ref):
    """eta ~ N(0, 1) gives theta ~ N(mu, tau^2) for each draw's mu and tau."""
    rng = np.random.default_rng(4)
    n = 200_000
    theta = ref["non_centred_theta"](np.full(n, 3.0), np.full(n, np.log(2.0)), rng.normal(size=(n, 1)))
    assert theta.mean() == pytest.approx(3.0, abs=0.02) and theta.std() == pytest.approx(2.0, abs=0.02)

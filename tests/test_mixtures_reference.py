"""The reference solution of the mixtures exercise reproduces published and closed-form results."""
import numpy as np
import pytest
from scipy import stats
from sklearn.mixture import GaussianMixture


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
    weights, means, sigmas, log_like = ref["fit_gmm"](ref["waiting"], [0.5, 0.5], [50.0, 80.0], [3.0, 3.0])
    assert weights[0] == pytest.approx(0.361, abs=5e-4)
    assert means == pytest.approx([54.61, 80.09], abs=5e-3)
    assert sigmas == pytest.approx([5.87, 5.87], abs=5e-3)
    assert -log_like == pytest.approx(1034.002, abs=1e-3)
    assert -log_like <= 1034.002, "EM must reach at least the optimum Everitt & Hothorn report"


def test_em_agrees_with_scikit_learn(ref):
    x = ref["waiting"]
    weights, means, sigmas, _ = ref["fit_gmm"](x, [0.5, 0.5], [50.0, 80.0], [5.0, 5.0])
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

"""The reference solution of the Gaussian-processes exercise agrees with closed forms, with
scikit-learn and statsmodels, and with the weighted least-squares answer of Hogg et al. (2010)."""
import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel


ASSIGNMENT = "gaussian-processes"   # the `ref` fixture (conftest.py) runs its reference solution


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(12)
    x = np.sort(rng.uniform(0.0, 15.0, 35))
    return x, np.sin(x) + 0.2 * rng.standard_normal(x.size), np.linspace(-2.0, 17.0, 23)


def test_kernel_matrix_is_scikit_learns(ref, data):
    x, _, x_star = data
    expected = (ConstantKernel(1.3**2) * RBF(0.7))(x[:, None], x_star[:, None])
    assert ref["squared_exponential"](x, x_star, 1.3, 0.7) == pytest.approx(expected, rel=1e-12)


def test_prediction_matches_closed_form_and_scikit_learn(ref, data):
    x, y, x_star = data
    mean, var = ref["gp_predict"](x, y, x_star, 0.9, 1.2, 0.2)
    k = lambda a, b: 0.81 * np.exp(-0.5 * np.subtract.outer(a, b) ** 2 / 1.2**2)
    K_y = k(x, x) + 0.04 * np.eye(x.size)
    assert mean == pytest.approx(k(x_star, x) @ np.linalg.solve(K_y, y), abs=1e-10)
    assert var == pytest.approx(0.81 - np.sum(k(x, x_star) * np.linalg.solve(K_y, k(x, x_star)), axis=0), abs=1e-10)
    sk = GaussianProcessRegressor(ConstantKernel(0.81) * RBF(1.2), alpha=0.04, optimizer=None).fit(x[:, None], y)
    sk_mean, sk_sd = sk.predict(x_star[:, None], return_std=True)
    assert mean == pytest.approx(sk_mean, abs=1e-10)
    assert np.sqrt(var) == pytest.approx(sk_sd, abs=1e-10)


def test_log_marginal_likelihood_is_the_multivariate_normal_density(ref, data):
    x, y, _ = data
    K_y = 0.81 * np.exp(-0.5 * np.subtract.outer(x, x) ** 2 / 1.2**2) + 0.04 * np.eye(x.size)
    expected = stats.multivariate_normal(np.zeros(x.size), K_y).logpdf(y)
    assert ref["log_marginal_likelihood"](x, y, 0.9, 1.2, 0.2) == pytest.approx(expected, rel=1e-12)
    sk = GaussianProcessRegressor(ConstantKernel(0.81) * RBF(1.2), alpha=0.04, optimizer=None).fit(x[:, None], y)
    assert ref["log_marginal_likelihood"](x, y, 0.9, 1.2, 0.2) == pytest.approx(sk.log_marginal_likelihood_value_, rel=1e-12)


def test_hyperparameter_fit_is_scikit_learns_optimum(ref, data):
    """scikit-learn maximises the same marginal likelihood (analytic gradients, L-BFGS-B)."""
    x, y, _ = data
    fit = ref["fit_hyperparameters"](x, y, (1.0, 1.0, 0.5))
    sk = GaussianProcessRegressor(ConstantKernel(1.0) * RBF(1.0) + WhiteKernel(0.25)).fit(x[:, None], y)
    assert fit == pytest.approx(np.exp(sk.kernel_.theta) ** np.array([0.5, 1.0, 0.5]), rel=1e-4)
    best = ref["log_marginal_likelihood"](x, y, *fit)
    for step in np.eye(3) * 1e-3:                         # a maximum: every nearby point is lower
        assert ref["log_marginal_likelihood"](x, y, *(fit * np.exp(step))) < best
        assert ref["log_marginal_likelihood"](x, y, *(fit * np.exp(-step))) < best


def test_new_observations_add_the_noise_and_match_scikit_learn(ref, data):
    """With a WhiteKernel in the kernel, scikit-learn's predictive std is that of a new observation."""
    x, y, x_star = data
    kernel = lambda a, b: ref["squared_exponential"](a, b, 0.9, 1.2)
    mean, sd = ref["predict_observations"](kernel, x, y, x_star, 0.2)
    f_mean, f_var = ref["gp_predict"](x, y, x_star, 0.9, 1.2, 0.2)
    assert mean == pytest.approx(f_mean, abs=1e-12)
    assert sd == pytest.approx(np.sqrt(f_var + 0.04), abs=1e-12)
    sk = GaussianProcessRegressor(ConstantKernel(0.81) * RBF(1.2) + WhiteKernel(0.04), alpha=0.0,
                                  optimizer=None).fit(x[:, None], y)
    sk_mean, sk_sd = sk.predict(x_star[:, None], return_std=True)
    assert mean == pytest.approx(sk_mean, abs=1e-10)
    assert sd == pytest.approx(sk_sd, abs=1e-10)


def test_gls_line_reproduces_hogg2010_exercise_1(ref):
    """Hogg, Bovy & Lang (2010), exercise 1, points 5-20: y = (2.24 +/- 0.11) x + (34 +/- 18)."""
    x, y, s = ref["x_hogg"][4:], ref["y_hogg"][4:], ref["sy_hogg"][4:]
    (m, b), cov = ref["gls_line"](x, y, np.diag(s**2))
    assert (round(m, 2), round(b), round(np.sqrt(cov[0, 0]), 2), round(np.sqrt(cov[1, 1]))) == (2.24, 34, 0.11, 18)


def test_gls_line_matches_statsmodels_with_a_full_covariance(ref):
    x, y = ref["x_hogg"], ref["y_hogg"]
    cov = np.diag(ref["sy_hogg"] ** 2) + 40.0**2 * np.exp(-0.5 * np.subtract.outer(x, x) ** 2 / 30.0**2)
    params, param_cov = ref["gls_line"](x, y, cov)
    fit = sm.GLS(y, np.column_stack([x, np.ones_like(x)]), sigma=cov).fit()
    assert params == pytest.approx(fit.params, rel=1e-9)
    # statsmodels rescales by the residual variance; with a known covariance use the unscaled one
    assert param_cov == pytest.approx(fit.normalized_cov_params, rel=1e-9)

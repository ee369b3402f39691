"""The Gaussian-processes chapter reproduces closed forms, library results and published numbers.

The chapter (book/gaussian-processes.md) glues its key results with myst-nb's ``glue``; these
tests read them from the built book (the ``built_book`` fixture in conftest.py).

Sources:
- Rasmussen & Williams (2006), *Gaussian Processes for Machine Learning*: Algorithm 2.1
  (predictive mean, variance, log marginal likelihood) and section 5.4.3, the Mauna Loa CO2
  kernel and its optimised hyperparameters theta_1..theta_11 (66 ppm, 67 yr, 2.4 ppm, 90 yr,
  1.3, 0.66 ppm, 1.2 yr, 0.78, 0.18 ppm, 1.6 months, 0.19 ppm), fitted to 545 monthly means
  1958-2003; the chapter refits them to the 521 monthly means (1958-2001) of
  statsmodels.datasets.co2 with scikit-learn;
- generalised least squares and the sandwich covariance of the diagonal-only estimator
  (closed forms), with the coverage of their intervals from seeded simulations;
- Foreman-Mackey et al. (2017, AJ 154, 220): celerite's log-likelihood is exact, at O(N) cost,
  and the SHO kernel's closed form, of which celerite2's RotationTerm is a sum of two;
- the law of total variance, with the GLS conditional of a linear parameter, for the depth of a
  transit whose GP hyperparameters are marginalised with emcee.

Timings and their log-log slopes are printed by the chapter, never asserted: a loaded machine
changes them, and speed belongs in measurements, not in tests.
"""
import math

import pytest
from scipy import stats

CHAPTER = "gaussian-processes"


def binomial_sd(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


# --- a straight line through correlated noise ----------------------------------------------

def test_ignoring_correlation_understates_the_slope_error(glued):
    """The diagonal-only error bar is smaller than the GLS one and than the true scatter of
    its own estimate (the sandwich formula)."""
    assert glued["line_se_naive"] < 0.6 * glued["line_se_gls"]
    assert glued["line_se_naive"] < 0.6 * glued["line_se_sandwich"]


def test_simulated_scatter_matches_the_closed_forms(glued):
    """Over the seeded simulations the slopes scatter as the sandwich formula (diagonal-only
    fit) and (A^T C^-1 A)^-1 (GLS) say; the standard error of a standard deviation estimated
    from n draws is sd / sqrt(2n), about 1.1 per cent here, so 5 per cent is a wide margin."""
    assert glued["line_mc_sd_naive"] == pytest.approx(glued["line_se_sandwich"], rel=0.05)
    assert glued["line_mc_sd_gls"] == pytest.approx(glued["line_se_gls"], rel=0.05)
    assert glued["line_mc_sd_gls"] <= glued["line_mc_sd_naive"], "GLS is the better estimator"


def test_gls_intervals_cover_68_per_cent(glued):
    n = glued["line_n_sims"]
    p = stats.norm.cdf(1) - stats.norm.cdf(-1)
    assert abs(glued["line_coverage_gls"] - p) < 3 * binomial_sd(p, n)


def test_naive_intervals_under_cover_as_predicted(glued):
    """A +-1 sigma_naive interval around an estimate that scatters by sigma_sandwich covers the
    truth with probability 2 Phi(sigma_naive / sigma_sandwich) - 1, far below 68 per cent."""
    n = glued["line_n_sims"]
    ratio = glued["line_se_naive"] / glued["line_se_sandwich"]
    expected = 2 * stats.norm.cdf(ratio) - 1
    assert glued["line_coverage_naive"] < 0.5
    assert abs(glued["line_coverage_naive"] - expected) < 3 * binomial_sd(expected, n)


# --- kernels and GP regression from scratch ------------------------------------------------

def test_kernels_match_scikit_learn(glued):
    """SE, Matern 1/2, 3/2, 5/2, periodic and rational quadratic equal scikit-learn's kernels."""
    assert glued["kernel_max_diff_sklearn"] < 1e-12


def test_prior_draws_have_the_kernel_as_covariance(glued):
    """The sample covariance of 20 000 seeded prior draws deviates from K by < 4.5 Monte Carlo
    standard errors in every entry."""
    assert glued["prior_cov_max_z"] < 4.5


@pytest.mark.parametrize("check", ["closed_mean", "closed_var", "closed_lml",
                                   "sklearn_mean", "sklearn_sd", "sklearn_lml"])
def test_algorithm_2_1_matches_closed_form_and_scikit_learn(glued, check):
    """Cholesky-based predictions and ln p(y|X) equal the solve()-based textbook formulas,
    scipy's multivariate normal density and GaussianProcessRegressor(optimizer=None)."""
    assert glued[f"scratch_vs_{check}"] < 1e-10


# --- hyperparameters ------------------------------------------------------------------------

def test_marginal_likelihood_has_two_local_optima(glued):
    """R&W figure 5.5's situation: a short-length-scale, low-noise optimum and a long-length-scale,
    noisy one, the first much more probable."""
    assert glued["opt1_ell"] > 3 * glued["opt0_ell"]
    assert glued["opt1_noise"] > 2 * glued["opt0_noise"]
    assert glued["opt0_lml"] > glued["opt1_lml"] + 5


def test_our_hyperparameter_fit_matches_scikit_learn(glued):
    assert glued["fit_max_rel_diff_sklearn"] < 1e-3
    assert glued["fit_lml_diff_sklearn"] < 1e-6


# --- Mauna Loa (R&W section 5.4.3) -----------------------------------------------------------

RW_THETA = [66.0, 67.0, 2.4, 90.0, 1.3, 0.66, 1.2, 0.78, 0.18, 1.6 / 12, 0.19]


def test_mauna_loa_data_are_the_stated_monthly_means(glued):
    """March 1958 - December 2001, 526 calendar months of which 5 have no weekly value."""
    assert glued["ml_n_months"] == 521
    assert glued["ml_first_year"] == pytest.approx(1958 + 2.5 / 12)
    assert glued["ml_last_year"] == pytest.approx(2001 + 11.5 / 12)


def test_fitted_period_is_one_year(glued):
    """The period was left free; the data must find the seasons (R&W fixed it at 1 yr)."""
    assert glued["ml_period"] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("i", range(1, 12))
def test_fitted_hyperparameters_are_close_to_rasmussen_williams(glued, i):
    """Different record (2 years shorter, other processing), every second month, the local
    maximum nearest R&W's values: agreement within a factor of 2 for every theta, and the
    white noise (theta_11, best determined) within 10 per cent."""
    ours, theirs = glued[f"ml_theta{i}"], RW_THETA[i - 1]
    assert theirs / 2 < ours < 2 * theirs
    if i == 11:
        assert ours == pytest.approx(theirs, rel=0.10)


def test_hyperparameter_fit_converged(glued):
    """L-BFGS-B stopped on its convergence test, not on an iteration limit."""
    assert glued["ml_fit_converged"] is True


def test_fit_improves_the_marginal_likelihood(glued):
    """Starting at R&W's values, the optimiser raises ln p(y|theta) of the months it fits; on
    all 521 months the half-record fit is within a couple of units of R&W's full-record values."""
    assert glued["ml_lml_fitted_fit"] > glued["ml_lml_start_fit"] + 0.5
    assert abs(glued["ml_lml_fitted_all"] - glued["ml_lml_start_all"]) < 2.0


def test_extrapolation_band_widens(glued):
    sds = [glued[name] for name in ("ml_sd_inside", "ml_sd_2003", "ml_sd_2010", "ml_sd_2020")]
    assert sds == sorted(sds) and sds[0] < 0.5 and sds[-1] > 4 * sds[0]


def test_extrapolation_continues_the_rise(glued):
    """The 2020 prediction lies above the last observed values (about 372 ppm in 2001)."""
    assert glued["ml_pred_2020"] > 380


# --- the transit light curve with celerite2 --------------------------------------------------

def test_gp_recovers_the_simulated_background(glued):
    assert glued["transit_rho"] == pytest.approx(0.3, rel=0.3)
    assert glued["transit_jitter"] == pytest.approx(0.25, rel=0.1)


def test_gp_depth_is_consistent_with_the_truth(glued):
    assert abs(glued["transit_depth_gp"] - glued["transit_depth_true"]) \
        < 2 * glued["transit_depth_gp_sd"]


def test_white_noise_depth_error_is_over_confident(glued):
    """Red noise (Pont et al. 2006): the white-noise error bar is much smaller than the GP's."""
    assert glued["transit_depth_white_sd"] < 0.8 * glued["transit_depth_gp_sd"]


def test_celerite_log_likelihood_equals_the_dense_one(glued):
    """celerite2 is exact (Foreman-Mackey et al. 2017): equal to the dense Cholesky result."""
    assert glued["transit_ll_celerite"] == pytest.approx(glued["transit_ll_dense"], rel=1e-10)
    assert glued["cost_ll_max_rel_diff"] < 1e-10



# --- marginalising the hyperparameters -------------------------------------------------------

def test_transit_chain_is_long_enough(glued):
    """emcee's documentation asks for chains longer than 50 integrated autocorrelation times."""
    assert glued["transit_chain_in_tau"] >= 50


def test_law_of_total_variance_matches_the_sampled_variance(glued):
    """Var(delta | y) = E[s^2(theta)] + Var[delta_hat(theta)], the GLS conditional being exact
    for a linear parameter with a flat prior. The sampled variance has about 2000 effective
    draws (relative Monte Carlo error about 3 per cent), so 12 per cent is four of those."""
    assert glued["transit_hyper_part"] >= 0
    assert glued["transit_var_total_decomposed"] == pytest.approx(
        glued["transit_depth_marg_sd"] ** 2, rel=0.12)


def test_marginalised_depth_is_consistent(glued):
    """Marginalising barely moves this well-sampled transit, and it still covers the truth."""
    assert abs(glued["transit_depth_marg"] - glued["transit_depth_gp"]) < 0.2 * glued["transit_depth_gp_sd"]
    assert glued["transit_depth_marg_sd"] == pytest.approx(glued["transit_depth_gp_sd"], rel=0.1)
    assert abs(glued["transit_depth_marg"] - glued["transit_depth_true"]) < 2 * glued["transit_depth_marg_sd"]
    assert glued["transit_corr_depth_max"] < 0.3, "the text calls the depth nearly uncorrelated"


# --- stellar rotation -------------------------------------------------------------------------

def test_rotation_kernel_from_scratch_equals_celerite2(glued):
    """RotationTerm is two SHO terms with the mapping of Foreman-Mackey et al. (2017) / celerite2,
    and the SHO kernel has the closed form the chapter writes down."""
    assert glued["rot_max_diff"] < 1e-10


def test_rotation_kernel_closed_form_properties(glued):
    """k(0) = sigma^2, and the primary mode oscillates at exactly 2 pi / P."""
    assert glued["rot_k0"] == pytest.approx(glued["rot_true_sigma"] ** 2, rel=1e-12)
    assert glued["rot_mode_period"] == pytest.approx(glued["rot_true_period"], rel=1e-12)


def test_rotation_period_is_recovered(glued):
    true = glued["rot_true_period"]
    assert glued["rot_period_ml"] == pytest.approx(true, rel=0.1)
    assert glued["rot_period_lo"] < glued["rot_period_med"] < glued["rot_period_hi"]
    assert glued["rot_period_med"] - 2 * glued["rot_period_minus"] < true \
        < glued["rot_period_med"] + 2 * glued["rot_period_plus"]
    assert glued["rot_period_ls"] == pytest.approx(true, rel=0.25), "the periodogram finds the right peak"
    assert glued["rot_chain_in_tau"] >= 50

def test_cost_scaling_was_measured_to_large_n(glued):
    """The chapter times celerite2 up to a million points (its slopes are printed, not tested)."""
    assert glued["cost_n_celerite_max"] >= 1_000_000
    assert all(math.isfinite(glued[f"cost_slope_{solver}"]) for solver in ("dense", "celerite"))

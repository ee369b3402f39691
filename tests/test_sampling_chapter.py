"""The sampling chapter reproduces closed forms and published results.

The chapter (book/sampling.md) glues its key numbers with myst-nb's ``glue``; these tests read
them from the built book (the ``glued`` fixture) and compare them with:

- closed forms: the normal tail probability; the mean and variance of a normal target; the
  acceptance fraction (2/pi) arctan(2/s) of random-walk Metropolis with step s on a standard
  normal; the integrated autocorrelation time (1 + rho)/(1 - rho) of an AR(1) chain; the
  leapfrog stability limit eps < 2 sigma_min on a Gaussian; the evidence of a linear model with
  Gaussian priors;
- published results: the optimal one-dimensional Metropolis step of about 2.4 sigma with an
  acceptance near 0.44 (Gelman, Roberts & Gilks 1996); the exact eight-schools posterior of tau
  (BDA3 section 5.5, ``astrostats.sampling``); divergences in the centred but not the non-centred
  eight schools (Betancourt & Girolami 2015); R-hat and ESS equal to ArviZ's (Vehtari et al. 2021);
- emcee: our windowed tau is the number ``emcee.autocorr.integrated_time`` returns.

Monte Carlo results are seeded in the chapter and compared within a stated number of their
own Monte Carlo errors.
"""
import numpy as np
import pytest

from astrostats.data import load_eight_schools
from astrostats.sampling import prob_tau_below

CHAPTER = "sampling"
pytestmark = pytest.mark.book


def test_monte_carlo_tail_probability_matches_the_normal_tail(glued):
    assert glued["mc_p_exact"] == pytest.approx(0.02275, abs=1e-5)
    assert abs(glued["mc_p_hat"] - glued["mc_p_exact"]) < 3 * glued["mc_p_err"]


def test_metropolis_samples_a_standard_normal(glued):
    assert abs(glued["mh_normal_mean"]) < 4 * glued["mh_normal_mean_se"]
    assert glued["mh_normal_var"] == pytest.approx(1.0, abs=0.05)


def test_acceptance_follows_its_closed_form_and_the_best_step_is_2_4(glued):
    """(2/pi) arctan(2/s) within Monte Carlo error of 40 000 steps at every scanned step; the
    shortest tau at the scanned step nearest 2.38, accepting about 44 per cent."""
    assert glued["tune_max_acc_error"] < 0.01
    assert glued["tune_best_scale"] == 2.4
    assert glued["tune_acc_at_best"] == pytest.approx(2 / np.pi * np.arctan(2 / 2.4), abs=0.01)
    assert glued["tune_tau_smallest_step"] > 50 * glued["tune_tau_at_best"]


def test_tuned_planet_chain_accepts_in_the_recommended_range(glued):
    assert 0.2 < glued["rv_acc"] < 0.5


def test_windowed_tau_of_ar1_is_emcees_and_matches_the_closed_form(glued):
    assert glued["ar1_tau_exact"] == pytest.approx(19.0)
    assert glued["ar1_tau_ours"] == pytest.approx(glued["ar1_tau_emcee"], rel=1e-10)
    assert abs(glued["ar1_tau_ours"] - 19.0) < 3 * glued["ar1_tau_se"]


def test_short_chains_underestimate_tau_and_50_tau_is_enough(glued):
    assert glued["length_tau_at_5tau"] < 0.5 * 19
    assert glued["length_tau_at_50tau"] == pytest.approx(19, rel=0.15)
    assert glued["length_tau_at_1000tau"] == pytest.approx(19, rel=0.05)


def test_the_planet_is_recovered(glued):
    """The minimum mass and semi-amplitude contain the truth within three standard deviations,
    and the ensemble and Metropolis agree on K within their Monte Carlo errors."""
    width = 0.5 * (glued["msini_lo"] + glued["msini_hi"])
    assert abs(glued["msini_median"] - glued["msini_true"]) < 3 * width
    assert abs(glued["ens_k_mean"] - 22.0) < 3 * glued["ens_k_sd"]
    assert glued["ens_k_mean"] == pytest.approx(glued["mh_k_mean"], abs=0.2 * glued["mh_k_sd"])
    assert glued["ens_k_sd"] == pytest.approx(glued["mh_k_sd"], rel=0.1)
    assert 0 < glued["msini_prob_above_saturn"] < 1


def test_the_ensemble_degrades_with_dimension_and_cannot_change_mode(glued):
    assert glued["ens_dim2_acc"] > glued["ens_dim8_acc"] > glued["ens_dim32_acc"]
    assert glued["ens_dim2_tau"] < glued["ens_dim8_tau"] < glued["ens_dim32_tau"]
    assert glued["ens_dim32_evals"] > 16 * glued["ens_dim2_evals"]
    assert glued["ens_bimodal_right"] < 0.01


def test_leapfrog_is_stable_only_below_twice_the_smallest_scale(glued):
    assert glued["leapfrog_err_stable"] < 10
    assert glued["leapfrog_err_unstable"] > 1e3


def test_exact_eight_schools_probability_is_the_hierarchical_chapters():
    """Pr(tau < 2 | y) of the BDA3 Table 5.2 data from the grid, cross-checked by a brute-force
    two-dimensional quadrature over (mu, tau) of the same posterior."""
    schools = load_eight_schools()
    y, sigma = np.round(schools["est"]), np.round(schools["se"])
    mu = np.linspace(-60, 80, 1401)
    tau = np.linspace(1e-6, 40, 4001)
    var = sigma[None, None, :] ** 2 + tau[:, None, None] ** 2
    log_post = -0.5 * np.sum(np.log(var) + (y - mu[None, :, None]) ** 2 / var, axis=-1)
    density = np.exp(log_post - log_post.max()).sum(axis=1)
    brute = density[tau < 2].sum() / density.sum()
    assert prob_tau_below(2.0, y, sigma) == pytest.approx(brute, abs=2e-3)


def test_nuts_diverges_in_the_centred_funnel_and_not_when_non_centred(glued):
    assert glued["nuts_n_draws"] == 8000
    assert glued["nuts_div_centred"] > 50
    assert glued["nuts_div_noncentred"] < glued["nuts_div_centred"] / 10


def test_non_centred_nuts_matches_the_exact_posterior_of_tau(glued):
    schools = load_eight_schools()
    exact = prob_tau_below(2.0, np.round(schools["est"]), np.round(schools["se"]))
    assert glued["exact_below_2"] == pytest.approx(exact)
    assert abs(glued["nuts_noncentred_below_2"] - exact) < 4 * glued["nuts_noncentred_below_2_se"]


def test_our_rhat_and_ess_are_arviz_and_flag_the_centred_run(glued):
    assert glued["diag_max_relative_difference"] < 1e-8
    assert glued["diag_noncentred_rhat"] < 1.01
    assert glued["diag_noncentred_ess_bulk"] > 400 and glued["diag_noncentred_ess_tail"] > 400
    assert glued["diag_centred_rhat"] > glued["diag_noncentred_rhat"]
    assert glued["diag_centred_ess_tail"] < glued["diag_noncentred_ess_tail"] / 5


def test_posterior_predictive_check_fails_the_wrong_model_only(glued):
    assert 0.05 < glued["ppc_p_jitter"] < 0.95
    assert glued["ppc_p_no_jitter"] < 0.01
    assert glued["ppc_chi2_no_jitter"] > 2 * 36


def test_nested_sampling_reproduces_the_closed_form_evidence(glued):
    for model in ("line", "parabola"):
        error = glued[f"ns_{model}_lnz_err"]
        assert abs(glued[f"ns_{model}_lnz"] - glued[f"ns_{model}_exact"]) < 3 * error + 0.05
    assert glued["ns_line_exact"] > glued["ns_parabola_exact"]

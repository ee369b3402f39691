"""The hierarchical-models chapter reproduces published numbers.

The chapter (book/hierarchical.md) glues its key results with myst-nb's ``glue``; these tests
build the book once (the ``built_book`` fixture) and compare them with:

- Gelman et al. (2013), *Bayesian Data Analysis*, 3rd ed. (BDA3), section 5.5, the eight
  schools of Rubin (1981). Table 5.2 prints the estimates rounded to whole points; some numbers
  in the book's text come from Rubin's unrounded estimates (Keirstead 2011), so each test says
  which set of values it uses;
- Betoule et al. (2014), A&A 568, A22: flat LambdaCDM from the JLA supernovae alone,
  Omega_m = 0.295 +/- 0.034, which their Appendix E binned distances reproduce;
- closed forms (the hypergeometric luminosity distance) and the exact grid posterior, against
  which the MCMC runs (emcee, and NUTS in NumPyro within ArviZ's Monte Carlo standard errors)
  and the simulated supernova population are checked;
- BDA3 chapter 6 (posterior predictive checks) and the truncated likelihood of selection
  effects (Mandel, Farr & Gair 2019): a flux-limited sample biases the population mean unless
  the selection is modelled.
"""
import pytest

CHAPTER = "hierarchical"


# --- BDA3 section 5.5: complete pooling -------------------------------------------------------

def test_pooled_estimate_from_table_5_2(glued):
    """With Table 5.2's rounded values: pooled estimate 7.7, posterior variance 16.6 (sd 4.1)."""
    assert round(glued["pooled_table_mean"], 1) == 7.7
    assert round(glued["pooled_table_var"], 1) == 16.6
    assert round(glued["pooled_table_sd"], 1) == 4.1


def test_pooled_estimate_from_rubins_unrounded_values(glued):
    """Rubin's unrounded estimates give 7.9 with variance 17.4 (the values of BDA's text that
    Keirstead 2011 traced to them) and the homogeneity chi2 = 4.6 on 7 degrees of freedom."""
    assert round(glued["pooled_rubin_mean"], 1) == 7.9
    assert round(glued["pooled_rubin_var"], 1) == 17.4
    assert round(glued["pooled_rubin_chi2"], 1) == 4.6
    assert round(glued["pooled_table_chi2"], 1) == 4.7, "the rounded table gives a different chi2"


# --- BDA3 section 5.5, Figure 5.5: the marginal posterior of tau -----------------------------

def test_p_tau_has_its_mode_at_zero_and_decreases(glued):
    assert glued["tau_mode"] == 0.0
    assert glued["tau_decreasing"] is True


def test_p_tau_is_broad(glued):
    """tau = 10 is still plausible (p(10 | y) is between a quarter and a half of p(0 | y)) and
    values beyond 25 are essentially ruled out."""
    assert 0.25 < glued["tau_p10_over_p0"] < 0.5
    assert glued["tau_prob_above_25"] < 0.02
    assert 4.0 < glued["tau_median"] < 6.5


# --- BDA3 section 5.5, Figures 5.6-5.7: school A given tau = 10 ------------------------------

def test_school_a_given_tau_10(glued):
    """At tau = 10, E(theta_A | tau, y) = 14.5 with sd 9.1-9.2 (Rubin's values), so the
    probability that school A's true effect is below its measured 28 points is 93 per cent."""
    assert glued["tau10_rubin_mean_a"] == pytest.approx(14.5, abs=0.05)
    assert glued["tau10_rubin_sd_a"] == pytest.approx(9.15, abs=0.06)
    for data in ("rubin", "table"):
        assert round(glued[f"tau10_{data}_prob_a_below_28"], 2) == 0.93


def test_posterior_draws_match_bda3_table_5_3(glued):
    """BDA3 Table 5.3 (200 draws): school A's posterior median is 10 and its 97.5% point about
    31; our 20 000 draws agree to within the book's Monte Carlo noise."""
    assert glued["draws_median_a"] == pytest.approx(10.0, abs=1.0)
    assert glued["draws_p975_a"] == pytest.approx(31.0, abs=3.0)


def test_draws_agree_with_the_exact_posterior_mean_of_mu(glued):
    assert glued["draws_mean_mu"] == pytest.approx(glued["exact_mu_mean"], abs=0.15)


# --- The funnel: centred against non-centred emcee runs ---------------------------------------

def test_both_samplers_look_healthy_by_acceptance(glued):
    for run in ("centred", "noncentred"):
        assert 0.2 < glued[f"{run}_acceptance"] < 0.5


def test_non_centred_run_reproduces_the_exact_posterior_of_tau(glued):
    """The non-centred chain's Pr(tau < 2) and Pr(tau < 0.5) agree with the grid to within
    their Monte Carlo errors (ESS of order a thousand)."""
    assert glued["noncentred_prob_tau_below_2"] == pytest.approx(
        glued["exact_prob_tau_below_2"], abs=0.03)
    assert glued["noncentred_prob_tau_below_half"] == pytest.approx(
        glued["exact_prob_tau_below_half"], abs=0.02)


def test_centred_run_misses_the_neck_of_the_funnel(glued):
    """The centred chain under-samples small tau: less than half the exact probability below
    0.5, and it never gets within a factor 100 of the non-centred chain's smallest tau."""
    assert glued["centred_prob_tau_below_half"] < 0.5 * glued["exact_prob_tau_below_half"]
    assert glued["centred_tau_min"] > 100 * glued["noncentred_tau_min"]
    assert glued["noncentred_ess_log_tau"] > glued["centred_ess_log_tau"]


# --- Betoule et al. (2014): flat LambdaCDM from the JLA binned distances ----------------------

def test_luminosity_distance_matches_the_closed_form(glued):
    assert glued["dl_closed_form_error"] < 1e-10


def test_jla_reproduces_betoule2014(glued):
    """Omega_m = 0.295 +/- 0.034 (Betoule et al. 2014, supernovae alone, flat LambdaCDM)."""
    assert glued["jla_om_best"] == pytest.approx(0.295, abs=0.002)
    assert glued["jla_om_mean"] == pytest.approx(0.295, abs=0.004)
    assert glued["jla_om_sd"] == pytest.approx(0.034, abs=0.001)


def test_jla_fit_is_acceptable(glued):
    """29 degrees of freedom: the minimum chi2 is within 2 sigma (sqrt(2 * 29) = 7.6) of 29."""
    assert abs(glued["jla_chi2_min"] - 29) < 2 * 7.6


def test_ignoring_the_correlations_understates_the_uncertainty(glued):
    assert glued["jla_om_sd_diagonal"] < 0.9 * glued["jla_om_sd"]


# --- The simulated supernova population ------------------------------------------------------

def test_partial_pooling_recovers_the_population(glued):
    true_s = glued["sim_sint_true"]
    assert glued["sim_sint_lo95"] < true_s < glued["sim_sint_hi95"]
    assert abs(glued["sim_m0_mean"] - glued["sim_m0_true"]) < 2 * glued["sim_m0_sd"]


def test_naive_scatter_overestimates_the_intrinsic_scatter(glued):
    assert glued["sim_naive_scatter"] > glued["sim_sint_hi95"]


def test_shrinkage_improves_the_individual_estimates(glued):
    assert glued["sim_rms_shrunk"] < 0.8 * glued["sim_rms_raw"]


# --- The tail of p(tau | y): the grid must reach far enough -----------------------------------

def test_prob_tau_above_25_is_the_exact_tail(glued):
    """Pr(tau > 25 | y) integrated to infinity is 0.0115; a grid cut at tau = 40 gives 0.010."""
    import numpy as np
    from scipy import integrate

    from astrostats.data import load_eight_schools
    from astrostats.sampling import log_p_tau

    schools = load_eight_schools()
    y, sigma = np.round(schools["est"].astype(float)), np.round(schools["se"].astype(float))
    density = lambda t: np.exp(log_p_tau(np.array([t]), y, sigma)[0] - log_p_tau(np.array([0.0]), y, sigma)[0])
    tail = integrate.quad(density, 25.0, np.inf)[0] / integrate.quad(density, 0.0, np.inf, limit=200)[0]
    assert glued["tau_prob_above_25"] == pytest.approx(tail, abs=2e-5)
    assert round(glued["tau_prob_above_25"], 4) == 0.0115
    assert round(glued["tau_prob_above_25_cut40"], 3) == 0.010


# --- NUTS in NumPyro against the exact posterior ----------------------------------------------

@pytest.mark.parametrize("name", ["tau", "mu", "theta_a"])
def test_non_centred_nuts_matches_the_exact_posterior_mean(glued, name):
    """Within four Monte Carlo standard errors (ArviZ's ESS-based MCSE) of the grid integral."""
    mcse = glued[f"nuts_nc_{name}_mcse"]
    assert 0 < mcse < 0.5
    assert abs(glued[f"nuts_nc_{name}_mean"] - glued[f"grid_{name}_mean"]) < 4 * mcse


def test_centred_nuts_diverges_and_misses_the_neck(glued):
    assert glued["nuts_centred_divergent"] > 10 * max(glued["nuts_noncentred_divergent"], 1)
    assert glued["nuts_centred_ess_tau"] < glued["nuts_noncentred_ess_tau"]
    assert glued["nuts_centred_prob_tau_below_half"] < glued["exact_prob_tau_below_half"]


# --- Posterior predictive checks (BDA3 chapter 6) ---------------------------------------------

def test_posterior_predictive_checks_pass(glued):
    """The eight schools (same and new schools) and the simulated population pass the checks
    of max, min and sd: no p-value in the outer 5 per cent."""
    names = [f"ppc_{kind}_{stat}" for kind in ("same", "new") for stat in ("max", "min", "sd")]
    names += [f"ppc_sn_{stat}" for stat in ("max", "min", "sd")]
    for name in names:
        assert 0.05 < glued[name] < 0.95, name
    assert glued["ppc_obs_max"] == 28.0 and glued["ppc_obs_min"] == -3.0


# --- Malmquist bias and its correction --------------------------------------------------------

def test_flux_limit_biases_the_naive_and_the_hierarchical_estimates(glued):
    truth = glued["sim_m0_true"]
    assert glued["malm_n_detected"] < 0.8 * glued["malm_n_parent"]
    assert truth - glued["malm_naive"] > 3 * glued["malm_naive_se"]
    assert truth - glued["malm_ignored_m0"] > 3 * glued["malm_ignored_sd"]


def test_truncated_likelihood_recovers_the_population_mean(glued):
    assert abs(glued["malm_modelled_m0"] - glued["sim_m0_true"]) < 2 * glued["malm_modelled_sd"]
    assert abs(glued["malm_modelled_sint"] - glued["sim_sint_true"]) < 0.03

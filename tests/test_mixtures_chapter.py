"""The mixture-models chapter reproduces published numbers.

The chapter (book/mixtures.md) glues its key results with myst-nb's ``glue``. These tests
build the book once (the ``built_book`` fixture in conftest.py) and compare the glued values
with the literature:

- Hogg, Bovy & Lang (2010), "Data analysis recipes: Fitting a model to data",
  arXiv:1008.4686, exercises 1 and 2 (weighted least squares on their Table 1);
- Everitt & Hothorn (2010), "A Handbook of Statistical Analyses Using R", 2nd ed., ch. 8
  (maximum-likelihood two-component normal mixture of the Old Faithful waiting times).
"""
import pytest

CHAPTER = "mixtures"


# --- Hogg, Bovy & Lang (2010), exercises 1 and 2 -------------------------------------------

@pytest.mark.parametrize(
    "subset, m, sigma_m, b, sigma_b",
    [
        # Exercise 1, points 5-20: y = (2.24 +/- 0.11) x + (34 +/- 18)
        ("5to20", 2.24, 0.11, 34, 18),
        # Exercise 2, all 20 points: y = (1.08 +/- 0.08) x + (213 +/- 14)
        ("all", 1.08, 0.08, 213, 14),
    ],
)
def test_weighted_least_squares_matches_hogg2010(glued, subset, m, sigma_m, b, sigma_b):
    """Our normal-equation fit agrees with Hogg et al. (2010) to the digits they print."""
    assert abs(glued[f"wls_{subset}_m"] - m) <= 0.005
    assert abs(glued[f"wls_{subset}_b"] - b) <= 0.5
    assert round(glued[f"wls_{subset}_sigma_m"], 2) == pytest.approx(sigma_m)
    assert round(glued[f"wls_{subset}_sigma_b"]) == sigma_b


def test_outliers_bias_the_all_points_fit(glued):
    """Hogg et al. (2010), exercise 2: including points 1-4 roughly halves the slope."""
    assert glued["wls_all_m"] < 0.6 * glued["wls_5to20_m"]


# --- Everitt & Hothorn (2010), ch. 8: Old Faithful waiting times ----------------------------
# Their optim (L-BFGS-B) output: p = 0.3608912, mu1 = 54.6121380, sd1 = 5.8723776,
# mu2 = 80.0934106, sd2 = 5.8672829, minimised -log L = 1034.002. A converged EM reaches
# the same maximum (our parameters differ from theirs by < 0.003 and give a -log L lower by
# 3e-5), so the tolerances below are met with room to spare but fail for any other optimum.
EVERITT_HOTHORN = {"p": 0.3608912, "mu1": 54.6121380, "sigma1": 5.8723776,
                   "mu2": 80.0934106, "sigma2": 5.8672829}
TOLERANCE = {"p": 0.001, "mu1": 0.01, "sigma1": 0.01, "mu2": 0.01, "sigma2": 0.01}


@pytest.mark.parametrize("param", sorted(EVERITT_HOTHORN))
def test_em_matches_everitt_hothorn(glued, param):
    """From-scratch EM reproduces the published maximum-likelihood mixture."""
    ours = glued[f"faithful_em_{param}"]
    assert abs(ours - EVERITT_HOTHORN[param]) <= TOLERANCE[param]


def test_em_negative_loglike_matches_everitt_hothorn(glued):
    """Everitt & Hothorn (2010) report a minimised negative log-likelihood of 1034.002."""
    assert abs(glued["faithful_em_neg_loglike"] - 1034.002) <= 0.01


@pytest.mark.parametrize("param", sorted(EVERITT_HOTHORN))
def test_sklearn_agrees_with_our_em(glued, param):
    """scikit-learn's GaussianMixture and our EM find the same maximum (to ~1e-4)."""
    ours = glued[f"faithful_em_{param}"]
    theirs = glued[f"faithful_sklearn_{param}"]
    assert abs(ours - theirs) <= (2e-5 if param == "p" else 2e-4)


def test_bic_picks_two_components(glued):
    """The BIC over K = 1..5 is smallest for two components (the published model's K)."""
    assert glued["faithful_bic_best_k"] == 2


# --- Hogg, Bovy & Lang (2010), section 3: foreground/background mixture --------------------

def test_mixture_flags_points_2_to_4_as_outliers(glued):
    """Points 2, 3 and 4 of Hogg et al.'s Table 1 lie 7-18 sigma off the good line: the
    mixture must call them bad with near certainty."""
    for i in (2, 3, 4):
        assert glued[f"outlier_prob_{i}"] > 0.95, f"point {i}"


def test_point_1_is_ambiguous(glued):
    """Point 1 (sigma_y = 61) is only ~1.8 sigma above the good line, so the model cannot be
    sure it is bad: its probability lies between the typical good point and the clear
    outliers."""
    p1 = glued["outlier_prob_1"]
    assert glued["outlier_prob_median_others"] < p1 < 0.6


def test_good_points_have_low_outlier_probability(glued):
    """The median outlier probability of points 5-20 is small."""
    assert glued["outlier_prob_median_others"] < 0.2


def test_mixture_line_matches_the_clean_fit(glued):
    """Modelling the outliers recovers the line of points 5-20 (Hogg et al. 2010, ex. 1:
    m = 2.24 +/- 0.11, b = 34 +/- 18) to well within its uncertainty, not the biased
    all-points line."""
    assert abs(glued["mixture_slope_median"] - glued["wls_5to20_m"]) < 0.05
    assert abs(glued["mixture_intercept_median"] - glued["wls_5to20_b"]) < 9


# --- Roeder (1990) galaxy velocities, as fitted by mclust (Scrucca et al. 2016) -------------
# mclust's three-component unequal-variance ("V") model of MASS::galaxies / 1000: ln L = -203.179,
# BIC = 2 ln L - p ln n = -441.61 with p = 8 (three means, three variances, two free weights) and
# n = 82; means 9.71, 21.40 and 33.04 thousand km/s. The next-best K = 3 optimum that EM finds
# from random starts (means 19.38, 19.82, 22.89) has ln L = -212.08, about 9 lower, so the
# tolerances below are met by the maximum only.

def test_galaxies_k3_loglike_matches_mclust(glued):
    assert glued["gal_n"] == 82
    assert abs(glued["gal_k3_loglike"] - (-203.179)) <= 0.001


def test_galaxies_k3_bic_matches_mclust(glued):
    assert glued["gal_k3_n_params"] == 8
    assert abs(glued["gal_k3_bic"] - (-441.61)) <= 0.005


@pytest.mark.parametrize("name, mean", [("low", 9.71), ("mid", 21.40), ("high", 33.04)])
def test_galaxies_k3_means_match_mclust(glued, name, mean):
    assert abs(glued[f"gal_k3_mean_{name}"] - mean) <= 0.005


def test_galaxies_bic_picks_three(glued):
    """mclust's BIC over K = 1..6 of the V model is largest at K = 3, with K = 5 a close second."""
    assert glued["gal_bic_best_k"] == 3
    assert glued["gal_bic_runner_up_k"] == 5 and glued["gal_bic_runner_up_gap"] < 1.0


def test_galaxies_heldout_likelihood_is_flat_beyond_three(glued):
    """Cross-validation rejects K = 1 clearly and cannot separate K = 3..5 (the chapter's claim)."""
    assert glued["gal_cv_gain_1_to_2"] > 2 * glued["gal_cv_err_typical"]
    assert glued["gal_cv_spread_3_to_5"] < glued["gal_cv_err_typical"]
    assert glued["gal_cv_best_k"] in (3, 4, 5)


# --- Checks of the sampled mixtures ---------------------------------------------------------

def test_posterior_predictive_tail_probabilities_are_not_extreme(glued):
    """The outlier model reproduces the number of >3 sigma points and the largest residual."""
    assert glued["ppc_t_obs_median"] == 3
    for name in ("ppc_p_far", "ppc_p_max"):
        assert 0.05 < glued[name] < 0.95, name


def test_exchangeable_mixture_switches_labels(glued):
    """With close components, the sampler visits both labellings about equally often."""
    assert glued["switch_n"] > 10
    assert 0.3 < glued["switch_frac_first_high"] < 0.7
    assert glued["switch_sorted_mean_lo"] < 0 < glued["switch_sorted_mean_hi"]


# --- Extreme deconvolution (Bovy, Hogg & Roweis 2011) against astroML's XDGMM ---------------

def test_extreme_deconvolution_agrees_with_astroml(glued):
    """From-scratch XD and astroML's XDGMM, started differently, reach the same maximum:
    means and covariances to 1e-3, weights to 1e-3, ln L to 1e-3."""
    assert glued["xd_dmu"] < 1e-3
    assert glued["xd_dV"] < 1e-3
    assert glued["xd_dalpha"] < 1e-3
    assert glued["xd_dlogL"] < 1e-3


def test_extreme_deconvolution_removes_the_noise_from_the_cluster_width(glued):
    """The naive GMM inflates the cluster's dispersion by the errors; XD recovers the truth."""
    true = glued["xd_cluster_sd_true"]
    assert glued["xd_cluster_sd_naive"] > 1.5 * true
    assert abs(glued["xd_cluster_sd_xd"] - true) < 0.25 * true


def test_glued_numbers_replace_typed_ones(glued):
    """The single-Gaussian saddle, the tied-width fit and the BIC gain quoted in the text."""
    assert abs(glued["symmetric_neg_loglike"] - 1095.29) < 0.01
    assert abs(glued["tied_neg_loglike"] - 1034.0018) < 1e-4
    assert abs(glued["faithful_gain_2_to_3"] - 2.4) < 0.1


def test_nuisance_parameters_barely_correlate_with_the_line(glued):
    """The corner plot's claim: the background parameters hardly correlate with m and b."""
    assert glued["corner_max_nuisance_corr"] < 0.2

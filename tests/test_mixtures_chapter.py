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

"""The probabilistic-graphical-models chapter reproduces published numbers and closed forms.

The chapter (book/pgm.md) glues its key results with myst-nb's ``glue``; these tests read them
from the built book (the ``built_book`` fixture) and compare them with:

- Russell & Norvig (2010), *Artificial Intelligence: A Modern Approach*, 3rd ed.: the burglary
  network (Fig. 14.2), P(j, m, a, not b, not e) = 0.000628 (§14.2.1), 10 free parameters
  against 31 for the full joint (§14.2), and P(B | j, m) = alpha <0.00059224, 0.0014919>
  = <0.284, 0.716> (§14.4.1);
- Murphy (1998), "A Brief Introduction to Graphical Models and Bayesian Networks" (the
  sprinkler network, also AIMA Fig. 14.12): P(S = 1 | W = 1) = 0.4298,
  P(R = 1 | W = 1) = 0.7079 and, explaining away, P(S = 1 | W = 1, R = 1) = 0.1945;
- Lauritzen & Spiegelhalter (1988), J. R. Stat. Soc. B 50, 157 (the Asia network):
  P(lung) = 0.055, and the independences its deterministic node `either` adds to the graph's;
- pgmpy (variable elimination, d-separation, Markov blankets, moralisation) as an independent
  implementation;
- closed forms for the standard-candle model (exponentially modified Gaussian), checked by
  numerical integration, and a seeded posterior for (mu, Abar) that covers the truth.
"""
import pytest

CHAPTER = "pgm"


# --- Russell & Norvig (2010): the burglary network --------------------------------------------

def test_joint_probability_of_the_textbook_assignment(glued):
    """AIMA §14.2.1: P(j, m, a, not b, not e) = 0.90 x 0.70 x 0.001 x 0.999 x 0.998 = 0.000628."""
    assert glued["burglary_joint_example"] == pytest.approx(0.000628, abs=5e-7)


def test_parameter_count_10_against_31(glued):
    """AIMA §14.2: the network needs 10 numbers, the full joint of five binary variables 31;
    pgmpy's tables hold the same 10 free numbers."""
    assert glued["burglary_n_network"] == 10
    assert glued["burglary_n_joint"] == 31
    assert glued["pgmpy_burglary_n_parameters"] == 10


def test_burglary_posterior_given_both_calls(glued):
    """AIMA §14.4.1: P(B | j, m) = alpha <0.00059224, 0.0014919> = <0.284, 0.716>."""
    assert glued["burglary_p_b_given_jm"] == pytest.approx(0.284, abs=5e-4)
    assert glued["burglary_unnormalised_b"] == pytest.approx(0.00059224, abs=5e-9)
    assert glued["burglary_unnormalised_not_b"] == pytest.approx(0.0014919, abs=5e-8)


# --- Murphy (1998): the sprinkler network -----------------------------------------------------

def test_sprinkler_posteriors_given_wet_grass(glued):
    """Murphy (1998): P(S = 1 | W = 1) = 0.4298 and P(R = 1 | W = 1) = 0.7079."""
    assert glued["sprinkler_p_s_given_w"] == pytest.approx(0.4298, abs=5e-5)
    assert glued["sprinkler_p_r_given_w"] == pytest.approx(0.7079, abs=5e-5)


def test_explaining_away(glued):
    """Murphy (1998): P(S = 1 | W = 1, R = 1) = 0.1945, below P(S = 1 | W = 1); the closed form is
    0.5 (0.1 x 0.8 + 0.5 x 0.2) 0.99 / [that + 0.5 (0.9 x 0.8 + 0.5 x 0.2) 0.9]. In the burglary
    network an earthquake likewise lowers the probability of a burglary given the alarm."""
    num = 0.5 * (0.1 * 0.8 + 0.5 * 0.2) * 0.99
    closed_form = num / (num + 0.5 * (0.9 * 0.8 + 0.5 * 0.2) * 0.9)
    assert glued["sprinkler_p_s_given_w_r"] == pytest.approx(closed_form, rel=1e-12)
    assert glued["sprinkler_p_s_given_w_r"] == pytest.approx(0.1945, abs=5e-5)
    assert glued["sprinkler_p_s"] == pytest.approx(0.3, rel=1e-12)
    assert glued["sprinkler_p_s_given_w_r"] < glued["sprinkler_p_s"] < glued["sprinkler_p_s_given_w"]
    assert glued["burglary_p_b_given_a_e"] < 0.05 * glued["burglary_p_b_given_a"]


# --- d-separation -------------------------------------------------------------------------------

def test_d_separation_statements_hold_numerically(glued):
    """Every d-separation found in the two networks is an exact conditional independence (to
    rounding), and every d-connection shows a real dependence with these tables."""
    assert glued["cond_n_statements"] == 24 + 80          # sprinkler 6 x 4, burglary 10 x 8
    assert glued["cond_n_separated"] >= 10
    assert glued["cond_max_gap_separated"] < 1e-12
    assert glued["cond_min_gap_connected"] > 1e-3


def test_from_scratch_d_separation_agrees_with_pgmpy(glued):
    """Our reachability test and pgmpy's is_dconnected agree on every one of 2000 random
    queries, a good share of which are d-separations."""
    n = glued["dsep_n_queries"]
    assert n >= 2000
    assert glued["dsep_disagreements"] == 0
    assert 0.2 * n < glued["dsep_n_separated"] < 0.8 * n


def test_pgmpy_inference_agrees_with_enumeration(glued):
    assert glued["pgmpy_max_posterior_difference"] < 1e-12


# --- ancestral sampling -------------------------------------------------------------------------

def test_ancestral_sampling_frequencies_match_exact_marginals(glued):
    """Seeded: each node's sampled frequency lies within 4 binomial standard errors of the exact
    marginal, and rejection sampling reproduces Murphy's P(R | W) = 0.7079 within 4 of its errors."""
    assert glued["sampling_n"] >= 100_000
    assert glued["sampling_max_abs_z"] < 4
    se = glued["sampling_p_r_given_w_se"]
    assert 0 < se < 0.005
    assert abs(glued["sampling_p_r_given_w"] - 0.7079) < 4 * se


# --- the standard-candle model ------------------------------------------------------------------

def test_marginal_likelihood_is_the_exponentially_modified_gaussian(glued):
    """scipy's exponnorm equals the numerical integral over the extinction, and the simulator's
    magnitudes follow it: KS test, mean E[m] = mu + Mbar + Abar, Var[m] = s^2 + Abar^2."""
    assert glued["astro_quad_max_rel_error"] < 1e-7
    assert glued["astro_ks_pvalue"] > 1e-3
    assert abs(glued["astro_mean_z"]) < 4
    assert abs(glued["astro_var_rel_error"]) < 0.02     # ~4 sigma for 1e5 skewed samples


def test_distance_modulus_recovered_and_dust_matters(glued):
    """The maximum-likelihood distance modulus lies within 3 sigma of the simulated truth; the
    naive estimate that ignores the dust is biased faint by about the mean extinction (0.3 mag)."""
    mu_true, mu_hat, err = (glued[k] for k in ("astro_mu_true", "astro_mu_hat", "astro_mu_err"))
    assert 0 < err < 0.05
    assert abs(mu_hat - mu_true) < 3 * err
    assert glued["astro_mu_naive"] - mu_true == pytest.approx(0.3, abs=0.05)


# --- Russell & Norvig (2010): the days with neither burglary nor earthquake ---------------------

def test_quiet_days_are_997_per_1000(glued):
    """0.999 x 0.998 = 0.997002: a false alarm is possible on 997 days out of 1000 (not 998)."""
    assert glued["burglary_p_quiet_day"] == pytest.approx(0.999 * 0.998, rel=1e-12)
    assert round(glued["burglary_quiet_days_per_1000"]) == 997
    assert glued["burglary_p_not_b_given_jm"] == pytest.approx(0.716, abs=5e-4)


# --- Lauritzen & Spiegelhalter (1988): the Asia network ---------------------------------------

def test_asia_p_lung(glued):
    """Lauritzen & Spiegelhalter (1988), J. R. Stat. Soc. B 50, 157: P(lung) = 0.5 x 0.1 +
    0.5 x 0.01 = 0.055, by pgmpy's variable elimination and by our enumeration; P(tub) =
    0.01 x 0.05 + 0.99 x 0.01 = 0.0104."""
    assert glued["asia_p_lung_pgmpy"] == pytest.approx(0.055, abs=1e-12)
    assert glued["asia_p_lung_enumeration"] == pytest.approx(0.055, abs=1e-12)
    assert glued["asia_p_tub"] == pytest.approx(0.0104, abs=1e-12)


def test_markov_blanket_agrees_with_pgmpy_and_gives_the_full_conditional(glued):
    """Our markov_blanket equals pgmpy's get_markov_blanket on every node of 200 random DAGs,
    and the local (blanket-only) conditional equals the full conditional everywhere in Asia."""
    assert glued["blanket_n_checked"] >= 1000
    assert glued["blanket_disagreements"] == 0
    assert glued["blanket_max_conditional_difference"] < 1e-12


def test_moral_graph_agrees_with_pgmpy(glued):
    """Asia's moral graph is pgmpy's to_markov_model (two married pairs: tub-lung, either-bronc);
    on random DAGs it equals DAG.moralize and every node's neighbours are its Markov blanket."""
    assert glued["moral_asia_matches_pgmpy"] == 1
    assert glued["moral_asia_n_married"] == 2
    assert glued["moral_n_checked"] >= 200
    assert glued["moral_disagreements"] == 0
    assert glued["moral_neighbour_disagreements"] == 0


def test_asia_is_not_faithful_to_its_graph(glued):
    """All 28 pairs x 64 conditioning sets are tested on pgmpy's joint: every d-separation is an
    independence, and some d-connected statements are exact independences too, all of them given
    tub and lung (which fix the deterministic either). xray and dysp are dependent a priori but
    independent given tub and lung, though d-connected through the fork at either."""
    assert glued["asia_n_statements"] == 28 * 64
    assert glued["asia_n_separated"] + glued["asia_n_connected"] == 28 * 64
    assert glued["asia_max_gap_separated"] < 1e-12
    assert glued["asia_n_unfaithful"] > 0
    assert glued["asia_unfaithful_all_fix_either"] == 1
    assert glued["asia_dsep_xray_dysp_tub_lung"] == 0 and glued["asia_dsep_either_xray_tub_lung"] == 0
    assert glued["asia_gap_xray_dysp"] > 1e-3
    assert glued["asia_gap_xray_dysp_tub_lung"] < 1e-15
    assert glued["asia_gap_either_xray_tub_lung"] < 1e-15


# --- the standard candles with the dust unknown -------------------------------------------------

def test_dust_likelihood_matches_double_integral(glued):
    """The closed form p(m_i | mu, Abar) equals a direct numerical integral over M_i and A_i."""
    assert glued["astro2_integration_max_rel_error"] < 1e-6


def test_dust_posterior_covers_the_truth(glued):
    """Seeded simulation with mu = 15, Abar = 0.3: the truth lies inside the 95% highest-density
    region of the joint grid posterior, each marginal mean is within 3 posterior standard
    deviations of it, the grid holds the posterior, mu and Abar are anticorrelated (both shift the
    mean magnitude), and not knowing the dust widens the distance uncertainty."""
    assert glued["astro_mu_true"] == 15.0 and glued["astro_a_true"] == 0.3
    assert glued["astro2_truth_mass"] < 0.95
    assert abs(glued["astro2_mean_mu"] - 15.0) < 3 * glued["astro2_sd_mu"]
    assert abs(glued["astro2_mean_a"] - 0.3) < 3 * glued["astro2_sd_a"]
    assert glued["astro2_lo_mu"] < glued["astro2_mean_mu"] < glued["astro2_hi_mu"]
    assert glued["astro2_lo_a"] < glued["astro2_mean_a"] < glued["astro2_hi_a"]
    assert 0 < glued["astro2_sd_mu"] < 0.05 and 0 < glued["astro2_sd_a"] < 0.05
    assert glued["astro2_edge_mass"] < 1e-6
    assert -0.9 < glued["astro2_correlation"] < -0.2
    assert glued["astro2_sd_ratio"] > 1

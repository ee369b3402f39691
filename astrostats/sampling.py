"""The exact eight-schools posterior of the population scale tau, on a grid.

The sampling chapter checks its NUTS runs against it, and its tests check the chapter's glued
numbers against it. It is the normal-normal hierarchy of the hierarchical chapter (BDA3 §5.5,
eq. 5.21) with flat priors on mu and on tau >= 0: integrating out the school effects and mu
leaves a one-dimensional density that a fine grid integrates exactly. What must hold: the
density is normalised on the grid with the trapezoidal rule, and the grid starts at tau = 0.
"""
import numpy as np
from scipy import integrate


def log_p_tau(tau, y, sigma):
    """ln p(tau | y) up to a constant, for flat priors on mu and tau (arrays of tau's shape)."""
    var = np.asarray(sigma, float) ** 2 + np.asarray(tau, float)[..., None] ** 2
    v_mu = 1.0 / np.sum(1.0 / var, axis=-1)
    mu_hat = v_mu * np.sum(np.asarray(y, float) / var, axis=-1)
    return 0.5 * np.log(v_mu) - 0.5 * np.sum(np.log(var) + (y - mu_hat[..., None]) ** 2 / var, axis=-1)


def tau_posterior(y, sigma, tau_max=40.0, n_grid=4001):
    """(grid, density, cdf) of p(tau | y) on an even grid from 0 to tau_max."""
    grid = np.linspace(0.0, tau_max, n_grid)
    log_post = log_p_tau(grid, y, sigma)
    density = np.exp(log_post - log_post.max())
    density /= integrate.trapezoid(density, grid)
    return grid, density, integrate.cumulative_trapezoid(density, grid, initial=0.0)


def prob_tau_below(t, y, sigma):
    """Pr(tau < t | y) from the exact grid posterior."""
    grid, _, cdf = tau_posterior(y, sigma)
    return float(np.interp(t, grid, cdf))

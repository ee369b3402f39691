"""The parallel chapter's likelihood three ways, for "profile first": a plain Python loop,
the numpy version of `astrostats.parallel`, and the same loop compiled by numba.

All three compute ln L = sum_i ln E[p(u)], u ~ N(v_i, sigma_i^2), by the same Gauss-Hermite
rule, so they agree to rounding.
"""
import math

import numba
import numpy as np

from astrostats.parallel import GH_OFFSETS, GH_WEIGHTS, LOG_SQRT_2PI, star_log_likelihoods


def log_likelihood_python(velocities, errors, mean, dispersion):
    """One star and one quadrature node at a time, in pure Python."""
    total = 0.0
    for v, e in zip(velocities.tolist(), errors.tolist()):
        logs = [-0.5 * ((v + e * x - mean) / dispersion) ** 2 - math.log(dispersion) - LOG_SQRT_2PI
                for x in GH_OFFSETS.tolist()]
        peak = max(logs)
        total += peak + math.log(sum(w * math.exp(lp - peak) for w, lp in zip(GH_WEIGHTS.tolist(), logs)))
    return total


def log_likelihood_numpy(velocities, errors, mean, dispersion):
    """The chapter's vectorised version: every star and node at once."""
    return float(star_log_likelihoods(velocities, errors, mean, dispersion).sum())


@numba.njit(cache=False)
def _log_likelihood_compiled(velocities, errors, mean, dispersion, offsets, weights, log_sqrt_2pi):
    total = 0.0
    logs = np.empty(offsets.size)
    for i in range(velocities.size):
        peak = -np.inf
        for k in range(offsets.size):
            z = (velocities[i] + errors[i] * offsets[k] - mean) / dispersion
            logs[k] = -0.5 * z * z - math.log(dispersion) - log_sqrt_2pi
            peak = max(peak, logs[k])
        s = 0.0
        for k in range(offsets.size):
            s += weights[k] * math.exp(logs[k] - peak)
        total += peak + math.log(s)
    return total


def log_likelihood_numba(velocities, errors, mean, dispersion):
    """The Python loop compiled to machine code by numba (compiled on the first call)."""
    return _log_likelihood_compiled(velocities, errors, float(mean), float(dispersion),
                                    GH_OFFSETS, GH_WEIGHTS, LOG_SQRT_2PI)

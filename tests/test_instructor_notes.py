"""The instructor notes' claims about students' typical mistakes are what those mistakes give.

Each claim is checked with the wrong-answer fixture that makes the mistake
(tests/fixtures/<slug>/), so the notes cannot drift from the exercise.
"""
import re
from pathlib import Path

import numpy as np
from scipy import integrate, optimize
from scipy.linalg import cho_factor, cho_solve

from astrostats.data import load_jla_binned

ROOT = Path(__file__).resolve().parents[1]
NOTES = (ROOT / "book" / "instructor-notes.md").read_text()


def test_the_comoving_distance_mistake_gives_the_chi2_the_notes_state():
    """Hierarchical Q5 without the (1 + z) factor: the JLA fit runs to Omega_m = 0."""
    stated = re.search(r"\*\*Comoving instead of luminosity distance\*\*.*?χ² of about (\d+)", NOTES, re.S)
    assert stated, "the notes no longer state the comoving-distance chi2"
    mistake = {"np": np, "integrate": integrate}
    exec((ROOT / "tests/fixtures/hierarchical/q5-answer--comoving-distance.py").read_text(), mistake)
    z, mu, cov = load_jla_binned()
    cho, ones = cho_factor(cov), np.ones_like(z)

    def chi2(omega_m):
        w = cho_solve(cho, mu - mistake["distance_modulus"](z, omega_m))
        return (mu - mistake["distance_modulus"](z, omega_m)) @ w - (ones @ w) ** 2 / (ones @ cho_solve(cho, ones))

    best = optimize.minimize_scalar(chi2, bounds=(0.0, 1.0), method="bounded")
    assert best.x < 0.01
    assert abs(best.fun - int(stated.group(1))) < 5


def test_the_diagonal_covariance_mistake_understates_the_uncertainty_as_the_notes_state():
    """Hierarchical Q6 with the variances only: the posterior of Omega_m is too narrow."""
    stated = re.search(r"understates the uncertainty \((0\.\d+) instead of (0\.\d+)\)", NOTES)
    assert stated, "the notes no longer state the diagonal-covariance uncertainty"
    mistake = {"np": np}
    exec((ROOT / "tests/fixtures/hierarchical/q6-answer--diagonal-covariance.py").read_text(), mistake)
    z, mu, cov = load_jla_binned()

    def distance_modulus(omega_m):
        inverse_e = lambda zp: 1.0 / np.sqrt(omega_m * (1.0 + zp) ** 3 + 1.0 - omega_m)  # noqa: E731
        return 5.0 * np.log10((1 + z) * [integrate.quad(inverse_e, 0.0, zi)[0] for zi in z])

    def posterior_sd(chi2):
        grid = np.linspace(0.05, 0.7, 261)
        values = np.array([chi2(om) for om in grid])
        density = np.exp(-0.5 * (values - values.min()))
        density /= integrate.trapezoid(density, grid)
        mean = integrate.trapezoid(grid * density, grid)
        return np.sqrt(integrate.trapezoid((grid - mean) ** 2 * density, grid))

    cho, ones = cho_factor(cov), np.ones_like(z)

    def full(omega_m):
        w = cho_solve(cho, mu - distance_modulus(omega_m))
        return (mu - distance_modulus(omega_m)) @ w - (ones @ w) ** 2 / (ones @ cho_solve(cho, ones))

    assert round(posterior_sd(lambda om: mistake["chi2_marginalised"](distance_modulus(om), mu, cov)), 3) == float(stated.group(1))
    assert round(posterior_sd(full), 3) == float(stated.group(2))

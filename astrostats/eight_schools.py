"""The eight-schools model in NumPyro, centred and non-centred.

The sampling and hierarchical chapters both sample these two models and check them against the
exact grid posterior of `astrostats.sampling`. What must hold: both models have the same
posterior, flat priors on mu and on tau > 0 (BDA3 section 5.5), and the same call signature
``model(sigma, y)``, so one helper runs either; the non-centred one records ``theta`` as a
deterministic site, so both return draws of ``theta``.
"""
import numpyro
import numpyro.distributions as dist

FLAT = dist.ImproperUniform(dist.constraints.real, (), ())
FLAT_POSITIVE = dist.ImproperUniform(dist.constraints.positive, (), ())


def centred(sigma, y):
    """theta_j ~ N(mu, tau^2) sampled directly: the posterior has Neal's funnel."""
    mu, tau = numpyro.sample("mu", FLAT), numpyro.sample("tau", FLAT_POSITIVE)
    with numpyro.plate("school", len(sigma)):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)


def non_centred(sigma, y):
    """theta_j = mu + tau * eta_j with eta_j ~ N(0, 1): the prior has no funnel."""
    mu, tau = numpyro.sample("mu", FLAT), numpyro.sample("tau", FLAT_POSITIVE)
    with numpyro.plate("school", len(sigma)):
        eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))
        theta = numpyro.deterministic("theta", mu + tau * eta)
        numpyro.sample("y", dist.Normal(theta, sigma), obs=y)

# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Customer value: BG/NBD purchases and Gamma-Gamma spend, fitted by maximum likelihood.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
while alive, a customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``
and after each repeat purchase drops out with probability ``p ~ Beta(a, b)``.
Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie's 2013 note):
a customer's purchases have mean value ``p / nu`` with ``nu ~ Gamma(q, v)``.

Inputs are sequences or numpy arrays, one customer per item, all in one time
unit: ``frequency`` is the number of repeat purchases, ``recency`` the age of
the customer at the last purchase (0 without repeat purchase), ``T`` the age at
the end of the calibration period, ``monetary`` the mean value of the repeat
purchases. Outputs are floats for scalar inputs, numpy arrays otherwise.

The log-likelihoods are the published ones written in log space
(``gammaln``, ``betaln``, ``logaddexp``) with their exact gradients, so a
million customers neither overflow nor lose precision; ``scipy.optimize``
maximises them over the logarithms of the parameters. Time and money are
rescaled to a mean of 1 before the fit, so the same bounds suit days or years,
cents or thousands.
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

# Bounds of the log of each rescaled parameter: a fit that ends on one of them
# is a sign that the data do not identify the model (the parameter runs off).
_LOG_BOUND = 15.0
# Closer than this to a = 1, the BG/NBD expectation is 0/0 in floating point.
_A_ONE_TOLERANCE = 1e-6
# Closer than this to c = a + b + x - 1 = 0, the expectation uses its limit at c = 0.
_C_ZERO_TOLERANCE = 1e-9
# Relative step off the inputs where scipy's hyp2f1 fails (see expected_purchases).
_NUDGE = 1e-12


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ``Gamma(r, alpha)``, dropout ``Beta(a, b)``."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: purchase value ``Gamma(p, nu)``, ``nu ~ Gamma(q, v)``."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")


def _columns(**columns):
    """Same-length 1-D float arrays of finite, non-negative values, or ValueError."""
    arrays = {name: np.atleast_1d(np.asarray(values, dtype=float)) for name, values in columns.items()}
    shapes = {array.shape for array in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"{', '.join(arrays)} must be 1-D sequences of the same length, got shapes {sorted(shapes)}")
    for name, array in arrays.items():
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds a value that is not a finite number")
        if np.any(array < 0):
            raise ValueError(f"{name} holds a negative value")
    return arrays.values()


def _customers(frequency, recency, T):
    """Frequency, recency and T for evaluation (any broadcastable shapes), checked."""
    x, t_x, T = (np.asarray(values, dtype=float) for values in (frequency, recency, T))
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T):
        raise ValueError("frequency and recency must be non-negative and recency at most T")
    return x, t_x, T


def _scalar_or_array(value):
    return float(value) if np.ndim(value) == 0 else value


def _minimize(objective, start, names):
    """Minimise ``objective(log_params) -> (value, gradient)``; the parameters, or ValueError."""
    # SLSQP rather than L-BFGS-B: as many evaluations, but L-BFGS-B's steps
    # call OpenBLAS, whose thread pool wakes on each of them and, on a busy
    # server, costs more than the whole likelihood (0.7 s of a 1 s fit at 100k
    # customers on 2 shared cores; 0.03 s in all for SLSQP).
    result = optimize.minimize(
        objective,
        np.log(start),
        jac=True,
        method="SLSQP",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-15},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ValueError(f"the fit did not converge ({result.message})")
    off = [name for name, value in zip(names, result.x, strict=True) if abs(value) > _LOG_BOUND - 1]
    if off:
        raise ValueError(
            f"the data do not identify {', '.join(off)} (the fit runs off to 0 or infinity): "
            "too few customers or repeat purchases, or all alike"
        )
    # The tolerance above is tighter than SLSQP reaches on a flat optimum:
    # stopping when the line search stalls at the optimum is fine, a sizeable
    # gradient is not.
    if not result.success and np.max(np.abs(result.jac)) > 1e-4:
        raise ValueError(f"the fit did not converge ({result.message})")
    return np.exp(result.x), -result.fun


# --- BG/NBD -------------------------------------------------------------------


def _bgnbd_loglik(r, alpha, a, b, x, t_x, T, *, gradient=False, distinct=None):
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6), and its gradient in (r, alpha, a, b).

    ``distinct`` is ``np.unique(x, return_inverse=True)`` when the caller has it.
    """
    # Terms that depend on the customer only through x: computed once per distinct x.
    xs, inverse = np.unique(x, return_inverse=True) if distinct is None else distinct
    repeat = xs > 0
    xs1 = np.where(repeat, xs - 1, 0.0)  # b + x - 1 is only read for x > 0
    log_ab = special.betaln(a, b)
    head = special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
    beta_alive = special.betaln(a, b + xs) - log_ab
    beta_gone = np.where(repeat, special.betaln(a + 1, b + xs1) - log_ab, -np.inf)
    rx = (r + xs)[inverse]
    log_alive = beta_alive[inverse] - rx * np.log(alpha + T)
    log_gone = beta_gone[inverse] - rx * np.log(alpha + t_x)
    total = np.logaddexp(log_alive, log_gone)
    loglik = head[inverse] + total
    if not gradient:
        return loglik
    # Weights of the two terms (alive at T, or gone after the last purchase).
    w_alive = np.exp(log_alive - total)
    w_gone = 1.0 - w_alive
    dg = special.digamma
    d_r = (dg(r + xs) - dg(r) + np.log(alpha))[inverse] - w_alive * np.log(alpha + T) - w_gone * np.log(alpha + t_x)
    d_alpha = r / alpha - rx * (w_alive / (alpha + T) + w_gone / (alpha + t_x))
    d_ab = dg(a + b)
    d_a_alive = d_ab - dg(a + b + xs)
    d_b_alive = dg(b + xs) - dg(a + b + xs) - dg(b) + d_ab
    d_a_gone = np.where(repeat, 1.0 / a + d_a_alive, 0.0)
    d_b_gone = np.where(repeat, dg(b + xs1) - dg(a + b + xs) - dg(b) + d_ab, 0.0)
    d_a = w_alive * d_a_alive[inverse] + w_gone * d_a_gone[inverse]
    d_b = w_alive * d_b_alive[inverse] + w_gone * d_b_gone[inverse]
    return loglik, np.stack([d_r, d_alpha, d_a, d_b])


class _BgNbdSample:
    """The customers of a BG/NBD fit, indexed once for the objective: the
    distinct values of x, t_x and T with each customer's position among them.
    Shop data in whole days repeat them a lot (a few hundred distinct ages for
    100k customers), so the terms of one value are computed once per
    evaluation and only the per-customer mixing runs over every customer."""

    def __init__(self, x, t_x, T):
        self.n = len(x)
        self.xs, self.ix, self.x_count = np.unique(x, return_inverse=True, return_counts=True)
        self.ts, self.it = np.unique(t_x, return_inverse=True)
        self.Ts, self.iT = np.unique(T, return_inverse=True)
        self.repeat = self.xs > 0
        self.xs1 = np.where(self.repeat, self.xs - 1, 0.0)  # b + x - 1 is only read for x > 0


def _bgnbd_total(r, alpha, a, b, sample):
    """Sum of the BG/NBD log-likelihoods of ``sample`` and its gradient in
    (r, alpha, a, b): the sums of ``_bgnbd_loglik``, computed per distinct
    value where a term depends on one value only."""
    xs, ix, count, repeat = sample.xs, sample.ix, sample.x_count, sample.repeat
    log_ab = special.betaln(a, b)
    head = special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
    beta_alive = special.betaln(a, b + xs) - log_ab
    beta_gone = np.where(repeat, special.betaln(a + 1, b + sample.xs1) - log_ab, -np.inf)
    log_T, log_t = np.log(alpha + sample.Ts)[sample.iT], np.log(alpha + sample.ts)[sample.it]
    rx = (r + xs)[ix]
    log_alive = beta_alive[ix] - rx * log_T
    log_gone = beta_gone[ix] - rx * log_t
    total = np.logaddexp(log_alive, log_gone)
    loglik = np.sum(count * head) + np.sum(total)
    # Weights of the two terms (alive at T, or gone after the last purchase).
    w_alive = np.exp(log_alive - total)
    w_gone = 1.0 - w_alive
    dg = special.digamma
    d_r = np.sum(count * (dg(r + xs) - dg(r) + np.log(alpha))) - np.sum(w_alive * log_T) - np.sum(w_gone * log_t)
    inv_T, inv_t = (1.0 / (alpha + sample.Ts))[sample.iT], (1.0 / (alpha + sample.ts))[sample.it]
    d_alpha = sample.n * r / alpha - np.sum(rx * (w_alive * inv_T + w_gone * inv_t))
    d_ab = dg(a + b)
    d_a_alive = d_ab - dg(a + b + xs)
    d_b_alive = dg(b + xs) - dg(a + b + xs) - dg(b) + d_ab
    d_a_gone = np.where(repeat, 1.0 / a + d_a_alive, 0.0)
    d_b_gone = np.where(repeat, dg(b + sample.xs1) - dg(a + b + xs) - dg(b) + d_ab, 0.0)
    alive_x = np.bincount(ix, weights=w_alive, minlength=len(xs))  # sum of w_alive per distinct x
    gone_x = count - alive_x
    d_a = np.sum(alive_x * d_a_alive + gone_x * d_a_gone)
    d_b = np.sum(alive_x * d_b_alive + gone_x * d_b_gone)
    return loglik, np.array([d_r, d_alpha, d_a, d_b])


def _start(params, names, scaled, scale, default):
    """The optimiser's starting point: ``params`` (an earlier fit, in the
    input's units) brought to the fit's scale, or ``default`` without them."""
    if params is None:
        return default
    start = np.array([getattr(params, name) / (scale if name == scaled else 1.0) for name in names], dtype=float)
    if not np.all(np.isfinite(start)) or np.any(start <= 0):
        return default
    # Inside the bounds the optimiser accepts, with room to move.
    return np.clip(start, np.exp(1 - _LOG_BOUND), np.exp(_LOG_BOUND - 1))


def fit_bgnbd(frequency, recency, T, start=None):
    """Fit BG/NBD by maximum likelihood; the parameters ``r, alpha, a, b`` in the input's time unit.

    ``start``: parameters of an earlier fit on similar data (a ``BgNbdParams``)
    to start the search from; the optimum found is the same, in fewer steps."""
    x, t_x, T = _columns(frequency=frequency, recency=recency, T=T)
    if np.any(t_x > T):
        raise ValueError("recency must be at most T for every customer")
    if np.any(x != np.round(x)):
        raise ValueError("frequency must be a whole number of repeat purchases")
    if len(x) < 2:
        raise ValueError("BG/NBD needs at least 2 customers to be fitted")
    if not np.any(x > 0):
        raise ValueError("BG/NBD cannot be fitted: no customer has a repeat purchase")
    if not np.all(T > 0):
        raise ValueError("T must be positive for every customer")
    scale = T.mean()
    t_x, T = t_x / scale, T / scale
    n = len(x)
    sample = _BgNbdSample(x, t_x, T)

    def objective(log_params):
        params = np.exp(log_params)
        loglik, grad = _bgnbd_total(*params, sample)
        return -loglik / n, -(grad / n) * params

    names = ("r", "alpha", "a", "b")
    (r, alpha, a, b), mean_loglik = _minimize(objective, _start(start, names, "alpha", scale, np.ones(4)), names)
    # Back to the input's time unit: the rate's scale alpha is a time.
    log_likelihood = mean_loglik * n - x.sum() * np.log(scale)
    return BgNbdParams(float(r), float(alpha * scale), float(a), float(b), float(log_likelihood))


def bgnbd_log_likelihood(params, frequency, recency, T):
    """Per-customer BG/NBD log-likelihood at ``params``."""
    x, t_x, T = _columns(frequency=frequency, recency=recency, T=T)
    return _bgnbd_loglik(params.r, params.alpha, params.a, params.b, x, t_x, T)


def _log_odds_gone(params, x, t_x, T):
    """log of P(gone) / P(alive) given the history (-inf without repeat purchase)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    odds = np.log(a) - np.log(b_x1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, odds, -np.inf)


def p_alive(params, frequency, recency, T):
    """Probability that the customer is still alive at ``T`` (1 without repeat purchase)."""
    x, t_x, T = _customers(frequency, recency, T)
    return _scalar_or_array(special.expit(-_log_odds_gone(params, x, t_x, T)))


def expected_purchases(params, t, frequency, recency, T):
    """Expected number of purchases in the next ``t`` after ``T``, given the history (FHL 2005, eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1) < _A_ONE_TOLERANCE:
        raise ValueError(f"a = {a} is too close to 1: the BG/NBD expectation is 0/0 there")
    x, t_x, T = _customers(frequency, recency, T)
    t = np.asarray(t, dtype=float)
    if np.any(t < 0):
        raise ValueError("t must be non-negative")
    c = a + b + x - 1
    near_pole = np.abs(c) < _C_ZERO_TOLERANCE  # x = 0 and a + b = 1
    c_safe = np.where(near_pole, 1.0, c)
    # (1 - z)^(r + x) 2F1(r + x, b + x; c; z) by Euler's transformation, as
    # (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; c; z): the plain form overflows
    # for customers with many purchases, this one stays near 1.
    log1m_z = np.log(alpha + T) - np.log(alpha + T + t)
    z = -np.expm1(log1m_z)
    h_a, h_b = a + b - 1 - r, a - 1
    tail = np.exp(h_b * log1m_z) * special.hyp2f1(h_a, h_b, c_safe, z)
    broken = ~np.isfinite(tail)
    if np.any(broken):
        # scipy's hyp2f1 gives inf where c - a - b is a whole number (r - a whole) and z > 0.9;
        # the function is smooth there: a relative nudge of 1e-12 in its first parameter finds its value.
        nudged = special.hyp2f1(h_a + _NUDGE * max(1.0, abs(h_a)), h_b, c_safe, z)
        tail = np.where(broken, np.exp(h_b * log1m_z) * nudged, tail)
    c_tail = c * tail
    if np.any(near_pole):
        # c 2F1(h_a, h_b; c; z) tends to h_a h_b z 2F1(h_a + 1, h_b + 1; 2; z) as c -> 0.
        limit = np.exp(h_b * log1m_z) * h_a * h_b * z * special.hyp2f1(h_a + 1, h_b + 1, 2, z)
        c, c_tail = np.where(near_pole, 0.0, c), np.where(near_pole, limit, c_tail)
    value = (c - c_tail) / (a - 1) * special.expit(-_log_odds_gone(params, x, t_x, T))
    if not np.all(np.isfinite(value)):
        raise ValueError(f"the BG/NBD expectation is not finite for these parameters ({params})")
    # Rounding leaves -0.0 (or a few ulps below it) where the expectation is 0.
    return _scalar_or_array(np.maximum(value, 0.0))


# --- Gamma-Gamma --------------------------------------------------------------


def _gamma_gamma_loglik(p, q, v, x, m, *, gradient=False):
    """Per-customer Gamma-Gamma log-likelihood of the mean value ``m`` of ``x`` purchases, and its gradient."""
    px = p * x
    log_vxm = np.log(v + x * m)
    loglik = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_vxm
    )
    if not gradient:
        return loglik
    dg_pxq = special.digamma(px + q)
    d_p = x * (dg_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_vxm)
    d_q = dg_pxq - special.digamma(q) + np.log(v) - log_vxm
    d_v = q / v - (px + q) / (v + x * m)
    return loglik, np.stack([d_p, d_q, d_v])


class _GammaGammaSample:
    """The repeat buyers of a Gamma-Gamma fit, reduced once for the objective:
    the distinct purchase counts and the sums that do not depend on the
    parameters."""

    def __init__(self, x, m):
        self.n = len(x)
        self.x, self.xm = x, x * m
        self.xs, self.x_count = np.unique(x, return_counts=True)
        self.sum_x_log_m = np.sum(x * np.log(m))
        self.sum_log_m = np.sum(np.log(m))
        self.sum_x_log_x = np.sum(self.x_count * self.xs * np.log(self.xs))


def _gamma_gamma_total(p, q, v, sample):
    """Sum of the Gamma-Gamma log-likelihoods of ``sample`` and its gradient
    in (p, q, v): the sums of ``_gamma_gamma_loglik``, with only
    ``log(v + x m)`` and ``1 / (v + x m)`` computed per customer."""
    n, xs, count = sample.n, sample.xs, sample.x_count
    pxs = p * xs
    log_vxm = np.log(v + sample.xm)
    inv_vxm = 1.0 / (v + sample.xm)
    sum_x_log_vxm = np.sum(sample.x * log_vxm)
    sum_log_vxm = np.sum(log_vxm)
    loglik = (
        np.sum(count * (special.gammaln(pxs + q) - special.gammaln(pxs)))
        - n * special.gammaln(q)
        + n * q * np.log(v)
        + p * sample.sum_x_log_m
        - sample.sum_log_m
        + p * sample.sum_x_log_x
        - p * sum_x_log_vxm
        - q * sum_log_vxm
    )
    dg_pxq = special.digamma(pxs + q)
    d_p = np.sum(count * xs * (dg_pxq - special.digamma(pxs))) + sample.sum_x_log_m + sample.sum_x_log_x - sum_x_log_vxm
    d_q = np.sum(count * dg_pxq) - n * special.digamma(q) + n * np.log(v) - sum_log_vxm
    d_v = n * q / v - p * np.sum(sample.x * inv_vxm) - q * np.sum(inv_vxm)
    return loglik, np.array([d_p, d_q, d_v])


def _repeat_buyers(frequency, monetary):
    x, m = _columns(frequency=frequency, monetary=monetary)
    repeat = x > 0
    x, m = x[repeat], m[repeat]
    if np.any(m <= 0):
        raise ValueError("monetary must be positive for every customer with repeat purchases")
    return x, m


def fit_gamma_gamma(frequency, monetary, start=None):
    """Fit Gamma-Gamma by maximum likelihood on the repeat buyers; the parameters ``p, q, v``.

    ``start``: parameters of an earlier fit (a ``GammaGammaParams``) to start the search from."""
    x, m = _repeat_buyers(frequency, monetary)
    if len(x) == 0:
        raise ValueError("Gamma-Gamma cannot be fitted: no customer has a repeat purchase")
    if len(x) < 2:
        raise ValueError("Gamma-Gamma needs at least 2 customers with repeat purchases to be fitted")
    scale = m.mean()
    m = m / scale
    n = len(x)
    sample = _GammaGammaSample(x, m)

    def objective(log_params):
        params = np.exp(log_params)
        loglik, grad = _gamma_gamma_total(*params, sample)
        return -loglik / n, -(grad / n) * params

    names = ("p", "q", "v")
    (p, q, v), mean_loglik = _minimize(objective, _start(start, names, "v", scale, np.ones(3)), names)
    # Back to the input's money unit: v is an amount.
    log_likelihood = mean_loglik * n - n * np.log(scale)
    return GammaGammaParams(float(p), float(q), float(v * scale), float(log_likelihood))


def gamma_gamma_log_likelihood(params, frequency, monetary):
    """Per-repeat-buyer Gamma-Gamma log-likelihood at ``params`` (customers without repeat purchase left out)."""
    x, m = _repeat_buyers(frequency, monetary)
    return _gamma_gamma_loglik(params.p, params.q, params.v, x, m)


def expected_spend(params, frequency, monetary):
    """Expected mean value of the customer's future purchases (the population mean without repeat purchase)."""
    p, q, v = params.p, params.q, params.v
    if q <= 1:
        raise ValueError(f"q = {q} is at most 1: the mean purchase value of the population is infinite")
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary, dtype=float), 0.0)
    if np.any(x < 0) or np.any(m < 0):
        raise ValueError("frequency and monetary must be non-negative")
    return _scalar_or_array(p * (v + x * m) / (p * x + q - 1))

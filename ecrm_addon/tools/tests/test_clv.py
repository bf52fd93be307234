# Copyright 2026 ecrm_addon contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import pathlib

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from scipy import optimize, special

from ecrm_addon.tools import clv
from ecrm_addon.tools.clv import BgNbdParams, GammaGammaParams

# CDNOW sample of Fader, Hardie & Lee (2005): 2,357 customers, weeks, 39-week calibration.
CDNOW = np.loadtxt(pathlib.Path(__file__).parent / "data" / "cdnow_summary.csv", delimiter=",", skiprows=1)
FREQUENCY, RECENCY, T, MONETARY = CDNOW.T
# The paper's rounded estimates.
PAPER_BGNBD = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


@pytest.fixture(scope="module")
def cdnow_bgnbd():
    return clv.fit_bgnbd(FREQUENCY, RECENCY, T)


@pytest.fixture(scope="module")
def cdnow_gamma_gamma():
    return clv.fit_gamma_gamma(FREQUENCY, MONETARY)


def sample_bgnbd(rng, n, params, T):
    """Frequency, recency and T of ``n`` customers drawn from BG/NBD ``params``, observed for ``T``."""
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    purchases = rng.poisson(lam * T)
    # Purchases until dropout (dropout follows a repeat purchase, never the first).
    lifetime = rng.geometric(rng.beta(params.a, params.b, n))
    x = np.minimum(purchases, lifetime)
    # The x-th of `purchases` uniform times on [0, T].
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), purchases - x + 1), 0.0)
    return x.astype(float), t_x, T


def sample_gamma_gamma(rng, frequency, params):
    """Mean purchase value of customers with ``frequency`` purchases drawn from Gamma-Gamma ``params``."""
    nu = rng.gamma(params.q, 1 / params.v, len(frequency))
    return rng.gamma(params.p * frequency, 1 / (frequency * nu))


def published_expected_purchases(params, t, x, t_x, T):
    """FHL 2005 eq. 10 as printed (overflows for large x; the reference on moderate values)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    alive = 1 + (a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x else 0)
    return head * body / alive


# --- CDNOW: the published figures ----------------------------------------------


def test_cdnow_bgnbd_reproduces_the_paper(cdnow_bgnbd):
    assert len(FREQUENCY) == 2357
    for name in ("r", "alpha", "a", "b"):
        assert getattr(cdnow_bgnbd, name) == pytest.approx(getattr(PAPER_BGNBD, name), rel=1e-2), name
    # The paper's LL = -9582.4.
    assert cdnow_bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_cdnow_customer_expects_1_226_purchases_in_next_39_weeks(cdnow_bgnbd):
    assert clv.expected_purchases(cdnow_bgnbd, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)
    assert clv.expected_purchases(PAPER_BGNBD, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


def test_cdnow_gamma_gamma_reproduces_the_paper(cdnow_gamma_gamma):
    paper = GammaGammaParams(p=6.25, q=3.74, v=15.44)
    for name in ("p", "q", "v"):
        assert getattr(cdnow_gamma_gamma, name) == pytest.approx(getattr(paper, name), rel=1e-2), name


def test_fit_is_in_the_input_time_and_money_units(cdnow_bgnbd, cdnow_gamma_gamma):
    in_days = clv.fit_bgnbd(FREQUENCY, RECENCY * 7, T * 7)
    assert in_days.alpha == pytest.approx(cdnow_bgnbd.alpha * 7, rel=1e-5)
    for name in ("r", "a", "b"):
        assert getattr(in_days, name) == pytest.approx(getattr(cdnow_bgnbd, name), rel=1e-5), name
    assert in_days.log_likelihood == pytest.approx(cdnow_bgnbd.log_likelihood - FREQUENCY.sum() * np.log(7), rel=1e-9)
    in_cents = clv.fit_gamma_gamma(FREQUENCY, MONETARY * 100)
    assert in_cents.v == pytest.approx(cdnow_gamma_gamma.v * 100, rel=1e-5)
    assert in_cents.p == pytest.approx(cdnow_gamma_gamma.p, rel=1e-5)
    assert in_cents.q == pytest.approx(cdnow_gamma_gamma.q, rel=1e-5)


def test_log_likelihood_of_the_fit_is_the_sum_of_the_customers(cdnow_bgnbd, cdnow_gamma_gamma):
    per_customer = clv.bgnbd_log_likelihood(cdnow_bgnbd, FREQUENCY, RECENCY, T)
    assert per_customer.sum() == pytest.approx(cdnow_bgnbd.log_likelihood, rel=1e-12)
    per_buyer = clv.gamma_gamma_log_likelihood(cdnow_gamma_gamma, FREQUENCY, MONETARY)
    assert len(per_buyer) == np.count_nonzero(FREQUENCY)
    assert per_buyer.sum() == pytest.approx(cdnow_gamma_gamma.log_likelihood, rel=1e-12)


# --- Likelihoods and formulas --------------------------------------------------


def test_gradients_are_the_derivatives_of_the_log_likelihoods():
    rng = np.random.default_rng(3)
    x, t_x, T_ = sample_bgnbd(rng, 500, PAPER_BGNBD, 40.0)
    theta = np.array([0.4, 3.0, 0.9, 2.0])
    _loglik, grad = clv._bgnbd_loglik(*theta, x, t_x, T_, gradient=True)
    numeric = optimize.approx_fprime(theta, lambda th: clv._bgnbd_loglik(*th, x, t_x, T_).sum(), 1e-7)
    np.testing.assert_allclose(grad.sum(axis=1), numeric, rtol=1e-4)
    x = rng.integers(1, 8, 500).astype(float)
    m = sample_gamma_gamma(rng, x, GammaGammaParams(6, 3, 15))
    theta = np.array([5.0, 2.5, 12.0])
    _loglik, grad = clv._gamma_gamma_loglik(*theta, x, m, gradient=True)
    numeric = optimize.approx_fprime(theta, lambda th: clv._gamma_gamma_loglik(*th, x, m).sum(), 1e-6)
    np.testing.assert_allclose(grad.sum(axis=1), numeric, rtol=1e-4)


def test_fit_objectives_are_the_sums_of_the_customers_likelihoods():
    rng = np.random.default_rng(5)
    # whole days, as the shop's data: the objective computes each distinct value once
    x, t_x, T_ = sample_bgnbd(rng, 2000, PAPER_BGNBD, rng.integers(30, 700, 2000).astype(float))
    t_x = np.floor(t_x)
    theta = np.array([0.4, 30.0, 0.9, 2.0])
    total, grad = clv._bgnbd_total(*theta, clv._BgNbdSample(x, t_x, T_))
    loglik, grads = clv._bgnbd_loglik(*theta, x, t_x, T_, gradient=True)
    np.testing.assert_allclose(total, loglik.sum(), rtol=1e-12)
    np.testing.assert_allclose(grad, grads.sum(axis=1), rtol=1e-10)
    x = rng.integers(1, 8, 500).astype(float)
    m = sample_gamma_gamma(rng, x, GammaGammaParams(6, 3, 15))
    theta = np.array([5.0, 2.5, 12.0])
    total, grad = clv._gamma_gamma_total(*theta, clv._GammaGammaSample(x, m))
    loglik, grads = clv._gamma_gamma_loglik(*theta, x, m, gradient=True)
    np.testing.assert_allclose(total, loglik.sum(), rtol=1e-12)
    np.testing.assert_allclose(grad, grads.sum(axis=1), rtol=1e-10)


def test_bgnbd_log_likelihood_is_the_published_one():
    r, alpha, a, b = 0.4, 3.0, 0.9, 2.0
    x, t_x, T_ = np.array([0.0, 1.0, 4.0]), np.array([0.0, 2.5, 30.0]), np.array([39.0, 20.0, 35.0])
    common = special.gamma(r + x) * alpha**r / special.gamma(r)
    published = special.beta(a, b + x) / special.beta(a, b) * common / (alpha + T_) ** (r + x) + (x > 0) * special.beta(
        a + 1, b + np.maximum(x - 1, 0)
    ) / special.beta(a, b) * common / (alpha + t_x) ** (r + x)
    np.testing.assert_allclose(clv._bgnbd_loglik(r, alpha, a, b, x, t_x, T_), np.log(published), rtol=1e-12)


@given(
    r=st.floats(0.05, 5),
    alpha=st.floats(0.1, 50),
    a=st.floats(0.1, 5).filter(lambda a: abs(a - 1) > 0.01),
    b=st.floats(0.1, 5),
    x=st.integers(0, 20),
    T_=st.floats(0.1, 100),
    share=st.floats(0, 1),
    t=st.floats(0, 100),
)
def test_expected_purchases_is_the_published_formula(r, alpha, a, b, x, T_, share, t):
    params = BgNbdParams(r, alpha, a, b)
    t_x = share * T_ if x else 0.0
    with np.errstate(all="ignore"):
        expected = published_expected_purchases(params, t, x, t_x, T_)
    # The printed form is 0/0 at a + b + x = 1 and meets scipy's hyp2f1 failures (tested below).
    if not np.isfinite(expected):
        reject()
    assert clv.expected_purchases(params, t, x, t_x, T_) == pytest.approx(expected, rel=1e-7, abs=1e-12)


@pytest.mark.parametrize(
    ("params", "history"),
    [
        # a + b + x = 1: c = 0 is a pole of the hypergeometric function, not of the expectation.
        (BgNbdParams(1.0, 1.0, 0.5, 0.5), (0, 0.0, 1.0)),
        # r - a whole and z > 0.9: scipy's hyp2f1 returns inf as it is.
        (BgNbdParams(1.0, 1.0, 2.0, 1.0), (99, 0.0, 0.5)),
        (BgNbdParams(0.01, 0.03125, 0.01, 1.0), (99, 0.0, 0.0625)),
    ],
)
def test_expected_purchases_are_continuous_where_the_hypergeometric_function_is_not(params, history):
    t = np.array([1.0, 14.0, 100.0])
    near = BgNbdParams(params.r * (1 + 1e-7), params.alpha, params.a, params.b * (1 + 1e-7))
    np.testing.assert_allclose(
        clv.expected_purchases(params, t, *history), clv.expected_purchases(near, t, *history), rtol=1e-5
    )


def test_new_customer_expects_the_unconditional_mean_the_sample_shows():
    # x = t_x = T = 0 gives E[X(t)] (FHL 2005 eq. 9); the sampler draws the same model.
    rng = np.random.default_rng(5)
    x, _t_x, _T = sample_bgnbd(rng, 200_000, PAPER_BGNBD, 39.0)
    assert clv.expected_purchases(PAPER_BGNBD, 39, 0, 0, 0) == pytest.approx(x.mean(), rel=0.02)


def test_heavy_buyers_neither_overflow_nor_lose_the_expectation():
    # 10,000 purchases over ten years in days, the last one just now: the published form overflows.
    buys = clv.expected_purchases(PAPER_BGNBD, 365, 10_000, 3649.9, 3650)
    assert buys == pytest.approx(1000, rel=0.05)
    assert np.isfinite(clv.bgnbd_log_likelihood(PAPER_BGNBD, [10_000, 0], [3649.9, 0], [3650, 3650])).all()
    assert clv.p_alive(PAPER_BGNBD, 10_000, 3000, 3650) == pytest.approx(0, abs=1e-300)


def test_expected_spend_is_the_population_mean_without_repeat_purchase(cdnow_gamma_gamma):
    g = cdnow_gamma_gamma
    population = g.p * g.v / (g.q - 1)
    assert clv.expected_spend(g, 0, 0) == pytest.approx(population)
    assert clv.expected_spend(g, 0, 123) == pytest.approx(population)
    assert clv.expected_spend(g, 2, 22.35) == pytest.approx(g.p * (g.v + 2 * 22.35) / (2 * g.p + g.q - 1))


def test_scalars_give_floats_and_arrays_give_arrays(cdnow_bgnbd, cdnow_gamma_gamma):
    assert isinstance(clv.p_alive(cdnow_bgnbd, 2, 30.43, 38.86), float)
    assert isinstance(clv.expected_purchases(cdnow_bgnbd, 39, 2, 30.43, 38.86), float)
    assert isinstance(clv.expected_spend(cdnow_gamma_gamma, 2, 22.35), float)
    assert clv.p_alive(cdnow_bgnbd, FREQUENCY, RECENCY, T).shape == (2357,)
    assert clv.expected_purchases(cdnow_bgnbd, 39, FREQUENCY, RECENCY, T).shape == (2357,)
    assert clv.expected_spend(cdnow_gamma_gamma, FREQUENCY, MONETARY).shape == (2357,)
    assert clv.expected_purchases(cdnow_bgnbd, [0, 13, 39], 2, 30.43, 38.86).shape == (3,)


# --- Synthetic samples from known parameters -----------------------------------


def test_200k_customers_in_days_over_ten_years_recover_the_parameters():
    truth = BgNbdParams(r=0.25, alpha=28.0, a=0.8, b=2.5)
    rng = np.random.default_rng(11)
    n = 200_000
    x, t_x, T_ = sample_bgnbd(rng, n, truth, rng.uniform(30, 3650, n))
    fitted = clv.fit_bgnbd(x, t_x, T_)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.1), name
    assert np.isfinite(fitted.log_likelihood)
    assert fitted.log_likelihood >= clv.bgnbd_log_likelihood(truth, x, t_x, T_).sum()
    assert np.isfinite(clv.expected_purchases(fitted, 90, x, t_x, T_)).all()


def test_gamma_gamma_recovers_the_parameters_of_200k_customers():
    truth = GammaGammaParams(p=6.25, q=3.7, v=15.4)
    rng = np.random.default_rng(13)
    x = rng.integers(0, 8, 200_000).astype(float)
    repeat = x > 0
    m = np.zeros_like(x)
    m[repeat] = sample_gamma_gamma(rng, x[repeat], truth)
    fitted = clv.fit_gamma_gamma(x, m)
    for name in ("p", "q", "v"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.1), name
    assert fitted.log_likelihood >= clv.gamma_gamma_log_likelihood(truth, x, m).sum()


# --- Degenerate cases -----------------------------------------------------------


def test_bgnbd_without_repeat_buyer_is_refused():
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        clv.fit_bgnbd([0, 0, 0], [0, 0, 0], [10, 20, 30])


def test_bgnbd_of_a_single_customer_is_refused():
    with pytest.raises(ValueError, match="at least 2 customers"):
        clv.fit_bgnbd([3], [5], [10])


def test_bgnbd_data_that_do_not_identify_the_model_are_refused():
    with pytest.raises(ValueError, match="do not identify"):
        clv.fit_bgnbd([1, 1, 1], [1, 1, 1], [2, 2, 2])


@pytest.mark.parametrize(
    ("frequency", "recency", "T_", "message"),
    [
        ([1, 2], [5, 11], [10, 10], "recency must be at most T"),
        ([1, -2], [5, 1], [10, 10], "frequency holds a negative value"),
        ([1.5, 2], [5, 1], [10, 10], "whole number"),
        ([1, 2], [5, 1], [10, 10, 10], "same length"),
        ([1, np.nan], [5, 1], [10, 10], "not a finite number"),
        ([1, 0], [0, 0], [0, 0], "T must be positive"),
    ],
)
def test_bgnbd_bad_input_is_refused(frequency, recency, T_, message):
    with pytest.raises(ValueError, match=message):
        clv.fit_bgnbd(frequency, recency, T_)


def test_gamma_gamma_degenerate_cases_are_refused():
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        clv.fit_gamma_gamma([0, 0], [0, 0])
    with pytest.raises(ValueError, match="at least 2 customers with repeat purchases"):
        clv.fit_gamma_gamma([0, 3, 0], [0, 20, 0])
    with pytest.raises(ValueError, match="do not identify"):
        clv.fit_gamma_gamma([1, 2, 3], [10, 10, 10])
    with pytest.raises(ValueError, match="monetary must be positive"):
        clv.fit_gamma_gamma([1, 2, 0], [10, 0, 0])


def test_expected_purchases_at_a_equal_1_is_refused():
    with pytest.raises(ValueError, match="too close to 1"):
        clv.expected_purchases(BgNbdParams(0.3, 4, 1.0, 2), 39, 2, 30, 38)


def test_expected_spend_with_q_at_most_1_is_refused():
    with pytest.raises(ValueError, match="at most 1"):
        clv.expected_spend(GammaGammaParams(6, 1, 15), 2, 20)


# --- Rules that hold for all inputs -------------------------------------------

bgnbd_params = st.builds(
    BgNbdParams,
    r=st.floats(1e-3, 1e3),
    alpha=st.floats(1e-3, 1e4),
    a=st.floats(1e-3, 1e3).filter(lambda a: abs(a - 1) > 1e-3),
    b=st.floats(1e-3, 1e3),
)
histories = st.tuples(st.integers(0, 100_000), st.floats(0, 1), st.floats(1e-3, 1e5)).map(
    lambda h: (h[0], h[1] * h[2] if h[0] else 0.0, h[2])
)


@given(params=bgnbd_params, history=histories)
def test_p_alive_is_a_probability(params, history):
    assert 0 <= clv.p_alive(params, *history) <= 1


@given(params=bgnbd_params, T_=st.floats(0, 1e5))
def test_p_alive_is_1_without_repeat_purchase(params, T_):
    assert clv.p_alive(params, 0, 0, T_) == 1


@given(
    params=st.builds(
        BgNbdParams,
        r=st.floats(0.01, 20),
        alpha=st.floats(0.01, 1000),
        a=st.floats(0.01, 20).filter(lambda a: abs(a - 1) > 1e-3),
        b=st.floats(0.01, 20),
    ),
    history=st.tuples(st.integers(0, 1000), st.floats(0, 1), st.floats(1e-2, 1e4)).map(
        lambda h: (h[0], h[1] * h[2] if h[0] else 0.0, h[2])
    ),
    t1=st.floats(0, 1e4),
    t2=st.floats(0, 1e4),
)
def test_expected_purchases_are_non_negative_and_grow_with_t(params, history, t1, t2):
    early, late = sorted((t1, t2))
    before, after = clv.expected_purchases(params, [early, late], *history)
    assert before >= 0
    assert after >= before * (1 - 1e-9)


@given(
    params=st.builds(GammaGammaParams, p=st.floats(0.01, 100), q=st.floats(1.01, 100), v=st.floats(0.01, 1e4)),
    x=st.integers(0, 10_000),
    m=st.floats(0.01, 1e6),
)
def test_expected_spend_lies_between_the_population_mean_and_the_own_mean(params, x, m):
    population = params.p * params.v / (params.q - 1)
    spend = clv.expected_spend(params, x, m)
    low, high = sorted((population, m if x else population))
    assert low * (1 - 1e-12) <= spend <= high * (1 + 1e-12)


def _counting(monkeypatch, name):
    calls = []
    original = getattr(clv, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(clv, name, counted)
    return calls


def test_a_fit_started_from_an_earlier_one_finds_the_same_optimum_in_fewer_steps(
    monkeypatch, cdnow_bgnbd, cdnow_gamma_gamma
):
    # The daily run starts from yesterday's parameters: the data of one day
    # later, here the same customers a week older.
    cold_calls = _counting(monkeypatch, "_bgnbd_total")
    cold = clv.fit_bgnbd(FREQUENCY, RECENCY, T + 1)
    warm_calls = _counting(monkeypatch, "_bgnbd_total")
    warm = clv.fit_bgnbd(FREQUENCY, RECENCY, T + 1, start=cdnow_bgnbd)
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(warm, name) == pytest.approx(getattr(cold, name), rel=1e-4), name
    assert len(warm_calls) < len(cold_calls)
    gg_cold_calls = _counting(monkeypatch, "_gamma_gamma_total")
    gg_cold = clv.fit_gamma_gamma(FREQUENCY, MONETARY * 1.01)
    gg_warm_calls = _counting(monkeypatch, "_gamma_gamma_total")
    gg_warm = clv.fit_gamma_gamma(FREQUENCY, MONETARY * 1.01, start=cdnow_gamma_gamma)
    for name in ("p", "q", "v", "log_likelihood"):
        assert getattr(gg_warm, name) == pytest.approx(getattr(gg_cold, name), rel=1e-4), name
    assert len(gg_warm_calls) < len(gg_cold_calls)


@pytest.mark.parametrize(
    "start",
    [BgNbdParams(r=0.0, alpha=1.0, a=1.0, b=1.0), BgNbdParams(r=float("nan"), alpha=1.0, a=1.0, b=1.0), None],
)
def test_a_start_outside_the_parameter_space_falls_back_to_the_default(cdnow_bgnbd, start):
    fitted = clv.fit_bgnbd(FREQUENCY, RECENCY, T, start=start)
    assert fitted.r == pytest.approx(cdnow_bgnbd.r, rel=1e-6)
    assert fitted.log_likelihood == pytest.approx(cdnow_bgnbd.log_likelihood, rel=1e-9)

"""The privacy accountant against the descent CLI, float formats, experiments."""

import json
import pathlib
import subprocess

import numpy as np
import pytest

import descent

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = ROOT / "target" / "release" / "descent"

# .ci/run builds the CLI (cargo test --release) before pytest runs
needs_cli = pytest.mark.skipif(not CLI.exists(), reason=f"{CLI} not built")


def cli_json(*args):
    out = subprocess.run([str(CLI), *args, "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@needs_cli
@pytest.mark.parametrize(
    ("kwargs", "flags"),
    [
        (
            {"noise_multiplier": 1.1, "sampling_rate": 0.01, "steps": 1000, "delta": 1e-5},
            ["--noise-multiplier", "1.1", "--sampling-rate", "0.01", "--steps", "1000", "--delta", "1e-5"],
        ),
        (
            {"noise_multiplier": [4.0, 3.0], "sampling_rate": 0.2, "steps": [75, 75], "delta": 1e-6, "conversion": "classic"},
            ["--noise-multiplier", "4,3", "--sampling-rate", "0.2", "--steps", "75,75", "--delta", "1e-6", "--conversion", "classic"],
        ),
    ],
)
def test_epsilon_equals_the_cli(kwargs, flags):
    got = descent.privacy.epsilon(**kwargs)
    assert got == cli_json("privacy", "epsilon", *flags)
    assert 0 < got["epsilon"] < 100 and got["order"] >= 2


@needs_cli
def test_noise_equals_the_cli():
    got = descent.privacy.noise(4.0, 0.01, [500, 500], 1e-5, noise_decay=0.9)
    want = cli_json(
        "privacy", "noise", "--epsilon", "4", "--sampling-rate", "0.01", "--steps", "500,500",
        "--delta", "1e-5", "--noise-decay", "0.9",
    )
    assert got == want
    s = got["noise_multipliers"]
    assert s[1] == pytest.approx(0.9 * s[0], rel=1e-15) and got["epsilon"] <= 4.0
    # the calibrated multiplier spends what the accountant says
    again = descent.privacy.epsilon(s, 0.01, [500, 500], 1e-5)
    assert again["epsilon"] == got["epsilon"]


def test_opacus_reference_value():
    # Opacus / dp-accounting (improved conversion): σ = 1.1, q = 256/60000, 60 epochs, δ = 1e-5
    # gives ε ≈ 2.9 on the default order grid (the DP-SGD MNIST example of Abadi et al.)
    steps = 60 * 60000 // 256
    e = descent.privacy.epsilon(1.1, 256 / 60000, steps, 1e-5)["epsilon"]
    assert 2.5 < e < 3.2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: descent.privacy.epsilon(1.0, 1.5, 10, 1e-5), "q|sampling"),
        (lambda: descent.privacy.epsilon(1.0, 0.1, 10, 2.0), "delta"),
        (lambda: descent.privacy.epsilon([1.0, 2.0, 3.0], 0.1, [10, 10], 1e-5), "noise_multiplier: 3 values"),
        (lambda: descent.privacy.epsilon(1.0, 0.1, 10, 1e-5, conversion="rdp"), "rdp"),
        (lambda: descent.privacy.noise(-1.0, 0.1, 10, 1e-5), "target_epsilon"),
    ],
)
def test_privacy_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def bf16_nearest(x32):
    """bf16 round-to-nearest-even of float32 values by bit arithmetic (independent of descent)."""
    u = x32.view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return r.astype(np.uint32).view(np.float32).astype(np.float64)


def test_bf16_nearest_equals_bit_arithmetic():
    x32 = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 100
    got = descent.quantize(x32.astype(np.float64), "bf16")
    assert np.array_equal(got, bf16_nearest(x32))
    assert descent.quantize(np.array([1 / 3]), "bf16")[0] == 0.333984375


def test_stochastic_rounding_is_unbiased_and_seeded():
    x = np.full(20_000, 1 / 3)
    a = descent.quantize(x, "bf16", rounding="stochastic", seed=7)
    lo, hi = 0.33203125, 0.333984375  # the bf16 neighbours of 1/3
    assert set(np.unique(a)) == {lo, hi}
    # P(hi) = (1/3 − lo)/(hi − lo) = 2/3; the mean is 1/3 within 4 standard errors
    se = (hi - lo) * np.sqrt(2 / 9 / x.size)
    assert abs(a.mean() - 1 / 3) < 4 * se
    assert np.array_equal(a, descent.quantize(x, "bf16", rounding="stochastic", seed=7))
    assert not np.array_equal(a, descent.quantize(x, "bf16", rounding="stochastic", seed=8))
    assert x[0] == 1 / 3, "the input is not modified"
    m = descent.quantize(x.reshape(100, 200), "fmt(e=8, m=7, round=stochastic)", seed=7)
    assert m.shape == (100, 200) and np.array_equal(m.ravel(), a)


def test_quantize_errors():
    with pytest.raises(ValueError, match="bf17"):
        descent.quantize(np.zeros(2), "bf17")
    with pytest.raises(ValueError, match="rounding"):
        descent.quantize(np.zeros(2), "bf16", rounding="up")


@needs_cli
def test_run_equals_the_cli_report(tmp_path):
    report = descent.run("reduction", preset="quick", seed=0)
    subprocess.run(
        [str(CLI), "run", "reduction", "--seed", "0", "--out", str(tmp_path)],
        capture_output=True,
        check=True,
    )
    want = json.loads((tmp_path / "report.json").read_text())
    # everything but wall-clock measurements (elapsed time, the series and tables that record
    # seconds, the one claim about seconds) is the same computation, so the same bits
    timed = ("elapsed_s", "figures", "series", "tables")
    for key in set(want) - set(timed):
        if key != "claims":
            assert report[key] == want[key], key
    untimed = [
        (a, b) for a, b in zip(report["claims"], want["claims"]) if "seconds" not in a["id"]
    ]
    assert len(untimed) == len(want["claims"]) - 1
    for a, b in untimed:
        assert a == b, a["id"]
    assert report["experiment"] == "reduction" and report["seed"] == 0
    assert all(c["holds"] for c in report["claims"] if c["kind"] == "asserted")


def test_run_sets_and_errors(tmp_path):
    with pytest.raises(ValueError, match="experiment 'nope'|nope"):
        descent.run("nope")
    with pytest.raises(ValueError, match="preset"):
        descent.run("reduction", preset="medium")
    with pytest.raises(ValueError, match="no_such_key"):
        descent.run("reduction", sets={"no_such_key": 1})
    assert "reduction" in descent.experiments() and len(descent.experiments()) == 10


def test_reproduce_writes_the_index(tmp_path):
    out = descent.reproduce(preset="quick", seed=1, out=str(tmp_path), experiments=["reduction"])
    assert [r["experiment"] for r in out["reports"]] == ["reduction"]
    assert len(out["index"]["claims"]) == len(out["reports"][0]["claims"]) > 0
    assert (tmp_path / "index.json").exists() and (tmp_path / "reduction" / "report.json").exists()

"""Shared fixtures: the reference quadratic of descent-optim's golden trajectories."""

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "crates" / "descent-optim" / "tests" / "reference" / "first_order.json"


@pytest.fixture(scope="session")
def reference():
    """first_order.json: A, c, x0 and the numpy trajectories of the published equations."""
    return json.loads(REFERENCE.read_text())

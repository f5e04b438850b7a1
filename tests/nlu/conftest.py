"""Fixtures of the NLU tests."""

import copy

import pytest


@pytest.fixture()
def probe(nlu):
    """The served NLU with a calibration of its own (the session's NLU is shared): an out-of-scope threshold of
    0.85 and no ambiguity margin, for tests of ``NLU.decide``."""
    p = copy.copy(nlu)
    p.calibration = copy.deepcopy(nlu.calibration)
    p.calibration.oos_threshold = 0.85
    p.calibration.ambiguity_margin = 0.0
    return p

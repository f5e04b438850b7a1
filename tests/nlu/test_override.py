"""The out-of-scope override (nlu/engine.py ``NLU.decide``): a question the classifier calls out of scope is routed
when its best matter score reaches the threshold plus the slope times the classifier's confidence."""

from nlu.index import MatterHit


def _decide(probe, text, conf, top):
    m = probe.matters[0]
    hits = [MatterHit(m.code, m.name, top), MatterHit(probe.matters[1].code, probe.matters[1].name, top - 0.3)]
    ranking = [("out_of_scope", conf), ("ask_matter", 1.0 - conf)]
    return probe.decide(text, text, ranking, hits)


def _routed(res):
    return bool(res["matters"]) and not res["out_of_scope"]


def test_a_weak_out_of_scope_call_is_outweighed_and_a_sure_one_is_not(probe):
    text = probe.matters[0].name  # a question with the matter's own terms (a content term)
    cal = probe.calibration
    cal.oos_override_threshold, cal.oos_override_slope = 0.9, 0.4
    # needs 0.9 + 0.4 × confidence: 0.98 at 0.2, 1.26 at 0.9
    assert _routed(_decide(probe, text, 0.2, 1.0))
    res = _decide(probe, text, 0.9, 1.0)
    assert res["out_of_scope"] and not res["matters"]
    assert _routed(_decide(probe, text, 0.9, 1.3))
    # without a slope the threshold alone decides, whatever the confidence
    cal.oos_override_slope = 0.0
    assert _routed(_decide(probe, text, 0.9, 1.0))
    # unused when 0
    cal.oos_override_threshold = 0.0
    assert not _routed(_decide(probe, text, 0.2, 1.5))


def test_the_override_never_routes_below_the_out_of_scope_threshold(probe):
    text = probe.matters[0].name
    cal = probe.calibration
    cal.oos_override_threshold, cal.oos_override_slope = 0.6, 0.4
    assert not _routed(_decide(probe, text, 0.1, 0.8))  # 0.6 + 0.04 reached, but 0.8 < oos_threshold 0.85
    assert _routed(_decide(probe, text, 0.1, 0.9))

"""Ranking within a group of matters (``NLU.rank_among``) and the refinement that uses it: a detail after a matter
question re-ranks the matter's whole family, also members the whole-KB search would not put near the top.
Phrasings written for these tests."""

import pytest


@pytest.fixture(scope="module")
def withdrawals(kb):
    """The 住房公积金提取 family, by name."""
    fam = {m.name: m.code for m in kb.matters if m.name.startswith("住房公积金提取")}
    assert len(fam) >= 4, fam
    return fam


def test_rank_among_scores_exactly_the_given_codes(nlu, withdrawals):
    codes = list(withdrawals.values()) + ["NO-SUCH-CODE"]
    hits = nlu.rank_among("公积金能不能取出来用", codes)
    assert sorted(h.code for h in hits) == sorted(withdrawals.values())
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert nlu.rank_among("", codes) == [] and nlu.rank_among("公积金", []) == []


def test_a_member_far_from_the_top_of_the_whole_kb_is_still_ranked(nlu, kb, withdrawals):
    text = "公积金想提出来，房子是在外头租的"
    whole = [h.code for h in nlu.search(text, 20)]
    far = next(m for m in kb.matters if m.code not in whole and "公积金" not in m.name)
    hits = nlu.rank_among(text, [far.code, *withdrawals.values()])
    assert far.code in [h.code for h in hits]
    assert hits[0].code != far.code and hits[-1].code == far.code


def test_rank_among_reads_a_detail_alone(nlu, withdrawals):
    hits = nlu.rank_among("房子是在外头租的，每个月交房租", list(withdrawals.values()))
    assert "租房" in hits[0].name, [h.name for h in hits]


@pytest.mark.parametrize("first,detail,want", [
    ("公积金里的钱想取出来", "房子是在外头租的，每个月交房租", "租房"),
    ("公积金里的钱咋个取出来", "单位把我辞退了，合同也解除了", "离职"),
    ("公积金能取不", "每个月都在还房贷", "偿还住房贷款"),
])
def test_a_detail_after_the_question_refines_the_matter_in_the_conversation(nlu_app_client, first, detail, want):
    """Through the app (the degraded path: the same parse, interpretation and steps as with Rasa)."""
    sid = f"rank-among-{len(want)}-{len(detail)}"

    def chat(text):
        r = nlu_app_client.post("/api/v1/chat", json={"session_id": sid, "text": text})
        assert r.status_code == 200, r.text
        return r.json()

    chat(first)
    last = chat(detail)
    assert last["matter"] and want in last["matter"]["name"], last

"""``NLU.with_matters``: after a guide edit, the NLU's search entries of the changed matter are exactly those a
fresh build over the edited KB would have, the other matters' entries are reused, and the old NLU is untouched."""

from __future__ import annotations

import numpy as np

from nlu.index import MatterIndex
from nlu.phonetic import PhoneticIndex
from nlu.rerank import MatterTerms

CODE = "JN-GJJ-002"


def _same_bm25(patched, fresh) -> None:
    """The patched BM25 is the fresh build: the same postings (as sets), idf, lengths and norms."""
    assert {t: sorted(p) for t, p in patched.postings.items() if p} == \
        {t: sorted(p) for t, p in fresh.postings.items() if p}
    assert patched.idf.keys() == fresh.idf.keys()
    assert all(abs(patched.idf[t] - fresh.idf[t]) < 1e-12 for t in fresh.idf)
    assert patched.doc_len == fresh.doc_len and abs(patched.avgdl - fresh.avgdl) < 1e-9
    assert np.allclose(patched._norm, fresh._norm)


def test_patched_entries_equal_a_fresh_build(kb, nlu):
    m = kb.get(CODE)
    phrase = "公积金拿来交房租咋个弄"
    edited = m.model_copy(update={"colloquial": [*m.colloquial, phrase], "aliases": m.aliases[1:],
                                  "materials": [*m.materials, m.materials[0].model_copy(update={"name": "社保缴费证明"})]})
    new_kb = kb.with_matters([edited])
    assert new_kb.get(CODE) is edited and kb.get(CODE) is m  # the old KB is left as it was

    new, codes = nlu.with_matters(new_kb.matters)
    assert codes == [CODE] and new is not nlu
    # the old NLU keeps its entries (a turn using it meanwhile is not disturbed)
    assert not any("交房租" in t for t in nlu.index.row_texts)

    known = dict(zip(nlu.index.row_texts, nlu.index.vectors))
    fresh = MatterIndex.build(new_kb.matters, nlu.encoder, nlu.tokenizer,
                              vectors_of={**known, **dict(zip(new.index.row_texts, new.index.vectors))})
    assert new.index.row_texts == fresh.row_texts
    assert np.array_equal(new.index.row_matter, fresh.row_matter)
    assert new.index.doc_terms == fresh.doc_terms
    assert np.array_equal(new.index.authored, fresh.authored)
    assert np.allclose(new.index.vectors, fresh.vectors)
    # the new phrase's vector is the encoder's, not a copy of another row
    row = new.index.row_texts.index(next(t for t in new.index.row_texts if "交房租" in t))
    assert np.allclose(new.index.vectors[row], nlu.encoder.encode([new.index.row_texts[row]])[0], atol=1e-5)

    _same_bm25(new.index.bm25, fresh.bm25)
    ph = PhoneticIndex.from_matters(new_kb.matters)
    assert new.phonetic.doc_terms == ph.doc_terms and new.phonetic.terms == ph.terms
    _same_bm25(new.phonetic.bm25, ph.bm25)
    mt = MatterTerms.build(new_kb.matters, nlu.tokenizer, fresh.doc_terms)
    assert (new.matter_terms.doc, new.matter_terms.name, new.matter_terms.conditions) == (mt.doc, mt.name,
                                                                                          mt.conditions)
    assert new.search(phrase, 1)[0].code == CODE


def test_nothing_searched_changed_means_the_same_nlu(kb, nlu):
    m = kb.get(CODE)
    same, codes = nlu.with_matters(kb.matters)
    assert same is nlu and codes == []
    # a fee is not searched: a new NLU object (new matters) but no rebuilt entries
    new, codes = nlu.with_matters(kb.with_matters([m.model_copy(update={"fee": "另行告知"})]).matters)
    assert codes == [] and new.index is nlu.index and new._by_code[CODE].fee == "另行告知"

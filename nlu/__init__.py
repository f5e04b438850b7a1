"""Natural-language understanding for 金小二: jieba + sentence embeddings + faiss/BM25 matter search, an intent
classifier and calibrated out-of-scope / ambiguity decisions, answering in Rasa's ``/model/parse`` format."""

from nlu.engine import NLU, Calibration
from nlu.index import MatterHit

__all__ = ["NLU", "Calibration", "MatterHit"]

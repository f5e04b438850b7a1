"""The guidebook of 金小二: the ``Matter`` schema, loaders and the ``KnowledgeBase`` (see docs/knowledge.md).

Imports nothing else from the project; takes plain paths, never settings or environment variables.
"""

from knowledge.kb import KnowledgeBase
from knowledge.schema import FAQ, Material, Matter, Place

__all__ = ["FAQ", "KnowledgeBase", "Material", "Matter", "Place"]

"""Loaders that turn source exports into ``Matter`` objects: the Sichuan catalogue (:mod:`.sichuan`), the
Guangdong guide export (:mod:`.guangdong`), authored YAML guides (:mod:`.guides`) and the KB's own JSON Lines
files (:mod:`.jsonl`)."""

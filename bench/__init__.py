"""Benchmarks: ``python -m bench`` runs each ``bench/<area>.py: run(settings) -> str``."""

"""Teach the assistant (triage inbox): collect the turns it got wrong or was unsure of (``collect``), group
near-duplicates (``groups``), turn a helper's resolution into learned examples after a regression check on the
held-out sets (``regression``, ``resolve``), and serve them on every replica within seconds (``sync``).
The tables are in :mod:`assistant.db.triage`; the staff API and page in :mod:`assistant.api.triage`."""

"""Pre-service (预服务): what the district does *before* people are hurt or have to queue.

- :mod:`renewals` — the renewal catalogue (derived from the Sichuan catalogue) and the district's editable list
  of 26 licences whose expiry is watched (``data/district_renewals.yml``);
- :mod:`validation` — dates, phone numbers, half-days, licence numbers as citizens type them;
- :mod:`streets` — 金牛区's streets and the matching of a free-text address to one (``data/jinniu_streets.yml``);
- :mod:`store` — licences, bookings and new firms in the app database (``assistant/db/preservice.py``);
- :mod:`delivery` — the channel interface (web inbox, WeChat through the channel layer);
- :mod:`scheduler` — expiry reminders at the configured offsets, once each, with catch-up after downtime;
- :mod:`uploads` — CSV/xlsx imports of licences and new firms with a per-row error report;
- :mod:`handbook` — 企业服务一本通 (惠企政策 with conditions, ``knowledge/handbook/*.yml``);
- :mod:`precheck` — 预审: which documents of a matter's checklist a citizen already has;
- :mod:`runtime` — :func:`runtime.get_preservice` wires the above on ``services.preservice``.
"""

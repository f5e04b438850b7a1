"""Running 金小二 as several processes: the topology (one source for ``cluster up`` and ``deploy/``), the
supervisor that keeps the members running, and the deploy files rendered from the topology."""

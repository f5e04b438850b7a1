"""``GET /readyz``: the balancer's check — this replica's own parts (database, KB, NLU), not Rasa."""

from __future__ import annotations

from fastapi.testclient import TestClient

from assistant.app import create_app


def test_readyz_follows_the_replicas_own_parts_not_rasa(make_settings, kb):
    # Rasa is at a closed port: /healthz says unavailable, but the replica can answer (degraded) once its NLU is in
    app = create_app(make_settings(), kb=kb, load_models=False)
    with TestClient(app) as c:
        services = app.state.services
        assert services.status["nlu"] == "loading"
        r = c.get("/readyz")
        assert (r.status_code, r.json()) == (503, {"status": "unavailable"})
        services.status["nlu"] = "ready"  # what the lifespan sets once the NLU is built
        r = c.get("/readyz")
        assert (r.status_code, r.json()) == (200, {"status": "ok"})
        assert c.get("/healthz").status_code == 503
        services.status["db"] = "error: OperationalError"
        assert c.get("/readyz").status_code == 503

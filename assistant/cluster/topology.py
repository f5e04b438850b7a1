"""The production topology on one machine, defined once: ports, members, their commands and settings, and the
HAProxy configuration. ``jinxiaoer cluster up`` runs it; ``jinxiaoer cluster render`` writes the same topology as
the deploy files in ``deploy/`` (docker compose, systemd units, ``haproxy.cfg``); ``tests/test_cluster_deploy.py``
checks the committed files equal a fresh rendering and agree with the plan ``cluster up`` runs.

Layout for ``--port P`` (every address is loopback except the public frontend)::

    citizens ──► P  (balancer "public": app-1..N, health check GET /readyz, retries)
    app-i     ── 127.0.0.1:P+10+i  (uvicorn, ``jinxiaoer serve``, JXE_RASA_MANAGE=false)
    app-i ──► P+1 (balancer "rasa": rasa-1..M, health check GET /)  ──► rasa-j 127.0.0.1:P+50+j
    rasa-j ──► P+2 (balancer "internal": app-1..N, NLU parse and custom actions only)

Settings shared by every member are in :func:`shared_env`; secrets (database and Redis URLs, tokens) come from
the operator's environment (``cluster up``) or a secrets file (``deploy/``), never from these files.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Topology", "Member", "shared_env", "haproxy_config", "SECRET_ENV"]

#: Variables every member needs but no rendered file may contain: they come from the operator's environment
#: (``cluster up``) or ``/etc/jinxiaoer/secrets.env`` (systemd, compose).
SECRET_ENV = ("DATABASE_URL", "REDIS_URL", "JXE_INTERNAL_TOKEN", "JXE_RASA_AUTH_TOKEN", "JXE_STAFF_TOKEN",
              "JXE_PSEUDONYM_KEY")


@dataclass(frozen=True)
class Member:
    """One supervised process.

    Attributes:
        name: ``app-1`` … , ``rasa-1`` …, ``balancer``.
        kind: ``app`` / ``rasa`` / ``balancer``.
        port: the port it listens on (the balancer: the public port).
        argv: the command, as words; ``{jinxiaoer}`` and ``{haproxy_cfg}`` are filled in by the runner.
        health: the path its health check asks (HTTP 200 = healthy): ``/readyz`` for an app (its own parts ready;
            it answers, degraded, while the Rasa pool is down), ``/`` for Rasa, the public ``/healthz`` through the
            balancer (everything, Rasa included) for the balancer.
    """

    name: str
    kind: str
    port: int
    argv: tuple[str, ...]
    health: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Topology:
    """N app replicas and M Rasa servers behind one balancer on ``port``.

    Attributes:
        app_replicas: N (1…40).
        rasa_replicas: M (1…40).
        port: the public port of the balancer.
        bind: the address the public frontend listens on (``0.0.0.0`` to serve other hosts).
    """

    app_replicas: int = 2
    rasa_replicas: int = 2
    port: int = 8000
    bind: str = "127.0.0.1"

    def __post_init__(self) -> None:
        for what, n in (("app replicas", self.app_replicas), ("Rasa replicas", self.rasa_replicas)):
            if not 1 <= n <= 40:
                raise ValueError(f"{what} must be between 1 and 40, not {n}")
        if not 1 <= self.port <= 65535 - 100:
            raise ValueError(f"port {self.port} leaves no room for the members (P+1 … P+90)")

    @property
    def rasa_lb_port(self) -> int:
        """The balancer's frontend for the apps' Rasa calls."""
        return self.port + 1

    @property
    def internal_lb_port(self) -> int:
        """The balancer's frontend for Rasa's calls of the apps (NLU, custom actions)."""
        return self.port + 2

    def app_port(self, i: int) -> int:
        return self.port + 10 + i

    def rasa_port(self, j: int) -> int:
        return self.port + 50 + j

    def members(self) -> list[Member]:
        """Every member in start order: Rasa servers, apps, then the balancer."""
        out = [Member(f"rasa-{j}", "rasa", self.rasa_port(j),
                      ("{jinxiaoer}", "cluster", "rasa", "--port", str(self.rasa_port(j))), "/")
               for j in range(1, self.rasa_replicas + 1)]
        out += [Member(f"app-{i}", "app", self.app_port(i),
                       ("{jinxiaoer}", "serve", "--host", "127.0.0.1", "--port", str(self.app_port(i))), "/readyz")
                for i in range(1, self.app_replicas + 1)]
        out.append(Member("balancer", "balancer", self.port, ("haproxy", "-db", "-f", "{haproxy_cfg}"), "/healthz"))
        return out


def shared_env(t: Topology) -> dict[str, str]:
    """The settings every member gets (no secrets): the apps use the Rasa pool through the balancer and do not
    start a Rasa server of their own; Rasa reaches the apps through the internal frontend; the apps trust the
    balancer's ``X-Forwarded-For``."""
    return {
        "JXE_ENVIRONMENT": "production",
        "JXE_RASA_MANAGE": "false",
        "JXE_RASA_URL": f"http://127.0.0.1:{t.rasa_lb_port}",
        "JXE_APP_INTERNAL_URL": f"http://127.0.0.1:{t.internal_lb_port}",
        "JXE_TRUSTED_PROXIES": "127.0.0.1/32",
        "JXE_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def _servers(members: list[Member], check: str) -> list[str]:
    return [f"    server {m.name} 127.0.0.1:{m.port} {check}" for m in members]


def haproxy_config(t: Topology) -> str:
    """The HAProxy configuration of the topology (HAProxy 2.6, Debian's package).

    * health checks every second, a member out after 2 failures and back after 1 success;
    * a request that could not be delivered or got no (whole) answer (connection refused, the member died
      mid-request, 502/503/504) is retried on another member (``retry-on`` + ``option redispatch``; the request is
      buffered whole first, in buffers big enough for Rasa's action calls with their tracker); chat requests carry
      a ``message_id``, so a retried turn is answered once (the app replays the stored answer);
    * the public frontend refuses the internal paths (``/nlu``, ``/actions``) and ``/metrics``.
    """
    apps = [m for m in t.members() if m.kind == "app"]
    rasas = [m for m in t.members() if m.kind == "rasa"]
    check = "check inter 1s fall 2 rise 1"
    lines = [
        "# Generated by `jinxiaoer cluster render` from assistant/cluster/topology.py — do not edit by hand.",
        f"# {t.app_replicas} app replicas, {t.rasa_replicas} Rasa servers, public port {t.port}.",
        "global",
        "    maxconn 2048",
        # a request can only be retried when it is whole in one buffer: Rasa's custom-action calls carry the
        # conversation's tracker (tens of kB), so the buffers are larger than HAProxy's 16 kB default
        "    tune.bufsize 131072",
        "    log stdout format raw local0 warning",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option redispatch",
        "    option http-buffer-request",
        "    retries 2",
        "    retry-on conn-failure empty-response junk-response response-timeout 502 503 504",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 30s",
        "    timeout check 2s",
        "    default-server init-addr last,libc,none",
        "",
        "frontend public",
        f"    bind {t.bind}:{t.port}",
        "    http-request deny deny_status 404 if { path_beg /nlu /actions /metrics }",
        "    default_backend apps",
        "",
        "backend apps",
        "    balance leastconn",
        "    option httpchk GET /readyz",
        "    http-check expect status 200",
        *_servers(apps, check),
        "",
        "frontend rasa",
        f"    bind 127.0.0.1:{t.rasa_lb_port}",
        "    default_backend rasa_servers",
        "",
        "backend rasa_servers",
        "    balance leastconn",
        "    option httpchk GET /",
        "    http-check expect status 200",
        *_servers(rasas, check),
        "",
        "frontend internal",
        f"    bind 127.0.0.1:{t.internal_lb_port}",
        "    default_backend apps_internal",
        "",
        "backend apps_internal",
        "    balance leastconn",
        "    option httpchk GET /readyz",
        "    http-check expect status 200",
        *_servers(apps, check),
        "",
    ]
    return "\n".join(lines)

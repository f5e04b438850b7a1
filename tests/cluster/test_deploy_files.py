"""deploy/ is the topology `jinxiaoer cluster up` runs: the committed files are exactly what
`jinxiaoer cluster render` writes today, and the compose services, systemd units and haproxy.cfg agree with the
plan `cluster up` hands its supervisor (same members, ports, commands, shared settings)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from assistant.cluster.deploy import INSTALL_DIR, render
from assistant.cluster.topology import SECRET_ENV, Topology, haproxy_config, shared_env
from assistant.commands.cluster import plan_for
from assistant.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


def test_committed_deploy_files_are_the_rendered_topology():
    rendered = render(Topology())
    for rel, text in rendered.items():
        path = DEPLOY / rel
        assert path.is_file(), f"deploy/{rel} is missing: run `jinxiaoer cluster render`"
        assert path.read_text(encoding="utf-8") == text, f"deploy/{rel} differs from `jinxiaoer cluster render`"


def test_compose_and_systemd_run_the_plan_of_cluster_up(tmp_path):
    t = Topology()
    plan = plan_for(t, tmp_path, jinxiaoer="jinxiaoer")
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    env = dict(line.split("=", 1) for line in (DEPLOY / "cluster.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert env == shared_env(t)
    assert not set(SECRET_ENV) & set(env)
    for m in plan["members"]:
        svc = services[m["name"]]
        if m["kind"] == "balancer":
            assert svc["command"][:2] == m["argv"][:2] == ["haproxy", "-db"]
            assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in svc["volumes"]
            continue
        assert svc["command"] == m["argv"], m["name"]
        assert svc["env_file"] == ["cluster.env", "secrets.env"]
        assert svc["healthcheck"]["test"][-1] == m["url"] + m["health"]
    assert set(services) - {"migrate"} == {m["name"] for m in plan["members"]}
    # every service shares the host's network, so the loopback addresses of haproxy.cfg hold in compose too
    assert all(s["network_mode"] == "host" for s in services.values())

    units = DEPLOY / "systemd"
    target = (units / "jinxiaoer.target").read_text()
    wanted = set(re.findall(r"jinxiaoer-(app|rasa)@(\d+)\.service", target))
    assert wanted == {(m["kind"], str(m["url"].rsplit(":", 1)[1])) for m in plan["members"] if m["kind"] != "balancer"}
    for kind in ("app", "rasa"):
        m = next(x for x in plan["members"] if x["kind"] == kind)
        port = m["url"].rsplit(":", 1)[1]
        unit = (units / f"jinxiaoer-{kind}@.service").read_text()
        exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
        assert exec_start == [w.replace("jinxiaoer", f"{INSTALL_DIR}/.venv/bin/jinxiaoer", 1) if i == 0 else
                              w.replace(port, "%i") for i, w in enumerate(m["argv"])]
        assert f"EnvironmentFile={INSTALL_DIR}/deploy/cluster.env" in unit


def test_haproxy_config_has_every_member_with_health_checks_and_retries():
    t = Topology(app_replicas=3, rasa_replicas=2, port=9000)
    cfg = haproxy_config(t)
    servers = re.findall(r"server (\S+) 127\.0\.0\.1:(\d+) check", cfg)
    assert sorted(set(servers)) == sorted({("app-1", "9011"), ("app-2", "9012"), ("app-3", "9013"),
                                           ("rasa-1", "9051"), ("rasa-2", "9052")})
    assert "retry-on conn-failure empty-response" in cfg and "option redispatch" in cfg
    assert cfg.count("option httpchk") == 3
    assert "bind 127.0.0.1:9001" in cfg and "bind 127.0.0.1:9002" in cfg
    assert (DEPLOY / "haproxy.cfg").read_text() == haproxy_config(Topology())


def test_haproxy_accepts_the_config(tmp_path):
    assert shutil.which("haproxy"), "haproxy is not installed: run scripts/install-balancer.sh"
    cfg = tmp_path / "h.cfg"
    cfg.write_text(haproxy_config(Topology()))
    r = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_topology_refuses_nonsense():
    with pytest.raises(ValueError):
        Topology(app_replicas=0)
    with pytest.raises(ValueError):
        Topology(port=65500)


def test_the_secrets_template_names_every_secret_a_member_needs():
    names = {line.split("=", 1)[0] for line in (DEPLOY / "secrets.env.example").read_text().splitlines()
             if "=" in line and not line.startswith("#")}
    assert set(SECRET_ENV) <= names


def test_cluster_up_gives_every_member_one_kept_pseudonym_key(tmp_path, monkeypatch):
    from assistant.commands.cluster import GENERATED_SECRETS, _secrets
    from assistant.settings import Settings, production_problem

    for name in GENERATED_SECRETS:
        monkeypatch.delenv(name, raising=False)
    first = _secrets(tmp_path, Settings())
    assert set(first) == set(GENERATED_SECRETS)
    assert _secrets(tmp_path, Settings()) == first  # a restart keeps the same references in the logs
    # with them, a production member sharing Redis is accepted (without the key it refuses to start)
    s = Settings.model_construct(**{**Settings().__dict__, "environment": "production", "redis_url": "redis://r:6379/0",
                                    "staff_token": "Staff-" + "x1" * 20, "internal_token": first["JXE_INTERNAL_TOKEN"],
                                    "rasa_auth_token": first["JXE_RASA_AUTH_TOKEN"],
                                    "pseudonym_key": first["JXE_PSEUDONYM_KEY"]})
    assert production_problem(s) is None
    assert "JXE_PSEUDONYM_KEY" in (production_problem(s.model_copy(update={"pseudonym_key": ""})) or "")

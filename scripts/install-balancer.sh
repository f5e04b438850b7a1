#!/usr/bin/env bash
# Installs the load balancer `jinxiaoer cluster up` runs (HAProxy from Debian's packages) when it is missing.
# Run as root (or with sudo). Does nothing when haproxy is already on the PATH.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi
echo "install-balancer: installing Debian's haproxy" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
# the packaged service would bind :80 with Debian's sample config; the cluster runs its own haproxy
systemctl disable --now haproxy >/dev/null 2>&1 || true
command -v haproxy >/dev/null

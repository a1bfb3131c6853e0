#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package, for CI and for the
# observability tests (observability-tests/). Idempotent: does nothing when both binaries
# are already on PATH. It never leaves a Prometheus server running: the package's
# maintainer scripts would start one on :9090 through invoke-rc.d / deb-systemd-invoke, so
# service starts are denied with a policy-rc.d for the duration of the install, and any
# instance that was started all the same is stopped and disabled afterwards.
#
#   scripts/install-prometheus.sh          # as root, or as a user with passwordless sudo
set -euo pipefail

log() { printf '[install-prometheus] %s\n' "$*"; }

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  log "already installed: $(promtool --version 2>&1 | head -1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "apt-get not found: install Prometheus >= 2.42 (prometheus and promtool) by other means"
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    log "needs root (or sudo) to run apt-get"
    exit 1
  fi
fi

# Deny every service start while dpkg runs (exit code 101 = "action forbidden", see
# /usr/share/doc/init-system-helpers/README.policy-rc.d). An existing policy-rc.d is put back
# afterwards exactly as it was.
POLICY=/usr/sbin/policy-rc.d
BACKUP=""
if [ -e "$POLICY" ]; then
  BACKUP="$(mktemp)"
  "${SUDO[@]}" cp -p "$POLICY" "$BACKUP"
fi
restore_policy() {
  if [ -n "$BACKUP" ]; then
    "${SUDO[@]}" cp -p "$BACKUP" "$POLICY"
    rm -f "$BACKUP"
  else
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# scripts/install-prometheus.sh: no service starts during the install\nexit 101\n' |
  "${SUDO[@]}" tee "$POLICY" >/dev/null
"${SUDO[@]}" chmod 0755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
"${SUDO[@]}" apt-get update -qq
log "apt-get install prometheus"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null

# Belt and braces: if a service manager started Prometheus anyway, stop it and keep it off.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  "${SUDO[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
elif [ -x /etc/init.d/prometheus ]; then
  if "${SUDO[@]}" /etc/init.d/prometheus status >/dev/null 2>&1; then
    log "stopping the prometheus service the package started"
    "${SUDO[@]}" /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
fi

for bin in prometheus promtool; do
  command -v "$bin" >/dev/null 2>&1 || { log "$bin is still missing after the install"; exit 1; }
done
log "installed: $(promtool --version 2>&1 | head -1)"

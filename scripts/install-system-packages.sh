#!/usr/bin/env bash
# Installs the Debian packages the tests use: etcd (a three-member cluster on
# loopback is started by the etcd adapter's tests themselves).
set -euo pipefail
if ! command -v etcd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
fi
echo "etcd: $(etcd --version | sed -n 1p)"

#!/usr/bin/env bash
# Installs the tools benches/search.rs compares pvtui with (Debian packages),
# and the C compiler that builds its target.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  gcc libc6-dev ripgrep yara scanmem

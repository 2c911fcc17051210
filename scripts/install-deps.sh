#!/usr/bin/env bash
# Installs the Debian 12 packages lamp builds against. Idempotent: installs only what is missing.
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  libsimdjson-dev libcli11-dev libfmt-dev libutf8proc-dev libzip-dev
  libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libtorch-dev libopenblas0-openmp
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi

#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages virtumancer builds against (root; no-op when present).
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config git libvirt-dev libyaml-dev libsqlite3-dev
      libsqlitecpp-dev libpugixml-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev
      nlohmann-json3-dev sqlite3 libpq-dev
      libcurl4-openssl-dev libssl-dev   # http(s) downloads of images; libcrypto: sha256/sha512 of images and cloud-init seeds
      clang libclang-rt-14-dev   # the libFuzzer targets (scripts/fuzz.sh): clang + its runtime
      dpkg-dev file man-db bash-completion zsh)  # scripts/package.sh (cpack, dpkg-shlibdeps) and its tests
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# check_install.sh BUILD_DIR: `cmake --install` into a temporary prefix; every file the issue
# asks for is there and the installed binary runs (ctest: install_prefix, label unit).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/usr" >/dev/null
p=$tmp/usr
[[ -x $p/bin/virtumancer ]] || fail "bin/virtumancer missing or not executable"
[[ -s $p/share/man/man1/virtumancer.1.gz ]] || fail "man page missing"
[[ -s $p/share/bash-completion/completions/virtumancer ]] || fail "bash completion missing"
[[ -s $p/share/zsh/vendor-completions/_virtumancer ]] || fail "zsh completion missing"
cmp -s "$src/schema/virtumancer.schema.json" "$p/share/virtumancer/virtumancer.schema.json" ||
  fail "schema missing or different"
for f in "$src"/specs/*.yaml; do
  cmp -s "$f" "$p/share/doc/virtumancer/examples/specs/$(basename "$f")" ||
    fail "example spec $(basename "$f") missing or different"
done
for f in systemd/virtumancer-drift.service systemd/virtumancer-drift.timer \
         github-actions/virtumancer.yml gitlab-ci/README.md; do
  cmp -s "$src/examples/$f" "$p/share/doc/virtumancer/examples/$f" || fail "examples/$f missing"
done
[[ -s $p/share/doc/virtumancer/README.md ]] || fail "README missing"
# Nothing but what we meant to install (no test or benchmark binaries).
extra=$(cd "$p" && find . -type f | grep -v -E '^\./(bin/virtumancer|share/man/man1/virtumancer\.1\.gz|share/bash-completion/completions/virtumancer|share/zsh/vendor-completions/_virtumancer|share/virtumancer/[^/]+\.json|share/doc/virtumancer/.*)$' || true)
[[ -z $extra ]] || fail "unexpected files installed: $extra"

# The installed binary and man page agree on the version.
v=$("$p/bin/virtumancer" --version)
[[ $v == "virtumancer "* ]] || fail "--version printed '$v'"
zcat "$p/share/man/man1/virtumancer.1.gz" | grep -qF "\"virtumancer ${v#virtumancer }\"" ||
  fail "man page .TH does not carry the version ${v#virtumancer }"
# The man page renders without warnings when man is installed.
if command -v man >/dev/null; then
  warn=$(MANWIDTH=80 man --warnings -l "$p/share/man/man1/virtumancer.1.gz" 2>&1 >/dev/null || true)
  [[ -z $warn ]] || fail "man page warnings: $warn"
fi
"$p/bin/virtumancer" validate "$p/share/doc/virtumancer/examples/specs" >/dev/null ||
  fail "installed binary failed to validate the installed example specs"
echo "ok: $(cd "$p" && find . -type f | wc -l) files installed and checked"

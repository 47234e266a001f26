#!/usr/bin/env bash
# check_deb.sh BUILD_DIR: builds the .deb from an already built BUILD_DIR with
# scripts/package.sh --no-build (cpack only: no second build), checks its control file and
# contents with dpkg-deb, extracts it into a throwaway root (never the system's) and runs the
# extracted binary (ctest: deb_package, labels unit and package).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$src/scripts/package.sh" --build-dir "$build" --out "$tmp/out" --no-build >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; fail "scripts/package.sh failed"; }
debs=("$tmp"/out/virtumancer_*.deb)
((${#debs[@]} == 1)) && [[ -f ${debs[0]} ]] || fail "expected one .deb in $tmp/out"
deb=${debs[0]}

field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == virtumancer ]] || fail "Package: $(field Package)"
version=$(field Version)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(~git[0-9]{8}\.[0-9a-f]{7,}(\.dirty)?)?$ ]] ||
  fail "Version: $version"
# In a git checkout that is not a release tag, the version names the commit the build was
# configured at (the build directory may be older than HEAD: then only the form is checked).
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1 &&
   ! git -C "$src" describe --exact-match --tags --match "v${version%%~*}" HEAD >/dev/null 2>&1; then
  [[ $version == *~git* ]] || fail "Version $version lacks the git revision"
  rev=${version#*~git*.}; rev=${rev%.dirty}
  git -C "$src" cat-file -e "$rev^{commit}" 2>/dev/null || fail "Version $version: no commit $rev"
fi
[[ $(basename "$deb") == "virtumancer_${version}_$(dpkg --print-architecture).deb" ]] ||
  fail "file name $(basename "$deb") does not match version $version"
depends=$(field Depends)
[[ -n $depends ]] || fail "Depends is empty"
for lib in libvirt0 libyaml-0-2 libsqlite3-0 libc6; do
  [[ $depends == *"$lib"* ]] || fail "Depends does not name $lib: $depends"
done
# Computed by dpkg-shlibdeps: versioned, e.g. "libvirt0 (>= 6.0.0)".
[[ $depends =~ libvirt0\ \(\>=\ [0-9] ]] || fail "libvirt0 dependency not versioned: $depends"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/virtumancer ./usr/share/man/man1/virtumancer.1.gz \
         ./usr/share/bash-completion/completions/virtumancer \
         ./usr/share/zsh/vendor-completions/_virtumancer \
         ./usr/share/virtumancer/virtumancer.schema.json \
         ./usr/share/doc/virtumancer/examples/specs/web.yaml \
         ./usr/share/doc/virtumancer/examples/systemd/virtumancer-drift.timer; do
  grep -qE " $f\$" <<<"$contents" || fail "$f not in the package"
done
grep -E ' \./usr/bin/virtumancer$' <<<"$contents" | grep -q '^-rwxr-xr-x root/root' ||
  fail "binary not 0755 root:root"

root=$tmp/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/virtumancer
file -L "$bin" | grep -q 'stripped' && ! file -L "$bin" | grep -q 'not stripped' ||
  fail "binary is not stripped"
v=$("$bin" --version)
[[ $v == "virtumancer $version" ]] || fail "--version printed '$v', package version is $version"
"$bin" validate "$root/usr/share/doc/virtumancer/examples/specs" >"$tmp/validate" 2>&1 ||
  { cat "$tmp/validate" >&2; fail "extracted binary failed to validate the example specs"; }
grep -q ' 0 errors' "$tmp/validate" || fail "validate: $(cat "$tmp/validate")"
echo "ok: $(basename "$deb") ($(stat -c %s "$deb") bytes), Depends: $depends"

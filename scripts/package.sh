#!/usr/bin/env bash
# package.sh - build the Debian package: dist/virtumancer_<version>_<arch>.deb
#   <version> is 0.1.0 on a commit tagged v0.1.0, else 0.1.0~git<date>.<commit> (cmake/version.cmake);
#   `virtumancer --version` prints the same. Depends: is computed by dpkg-shlibdeps.
# Options:
#   --build-dir DIR  build directory (default build-package: Release, no tests, no benchmark)
#   --out DIR        where the .deb is written (default dist/)
#   --no-build       DIR is already configured and built: only run cpack (the ctest check)
# Install it with: apt install ./dist/virtumancer_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=build-package out=dist no_build=0
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) no_build=1; shift ;;
    *) echo "usage: scripts/package.sh [--build-dir DIR] [--out DIR] [--no-build]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
if ((!no_build)); then
  scripts/deps.sh
  launcher=()
  command -v ccache >/dev/null &&
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  if [[ -f $build/CMakeCache.txt ]]; then
    cmake -S "$src" -B "$build" >/dev/null   # re-run: the version follows the current commit
  else
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIRTUMANCER_WERROR=ON \
      -DVIRTUMANCER_TESTS=OFF -DVIRTUMANCER_BENCH=OFF "${launcher[@]}" >/dev/null
  fi
  cmake --build "$build" -j "$(nproc)" --target virtumancer virtumancer-docs
fi
[[ -f $build/CPackConfig.cmake ]] || { echo "package: $build is not configured" >&2; exit 1; }
# Remove .debs of earlier versions so exactly one is left; cpack's staging tree goes to $out too.
rm -f "$out"/virtumancer_*.deb
cpack --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 ||
  { cat "$out/cpack.log" >&2; exit 1; }
rm -rf "$out/_CPack_Packages" "$out/cpack.log"
deb=$(ls "$out"/virtumancer_*.deb)
echo "package: $deb"
dpkg-deb -f "$deb" Package Version Depends

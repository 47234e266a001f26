#!/usr/bin/env bash
# fuzz.sh - build and run the libFuzzer targets of fuzz/ in ./build-fuzz (clang, with
# AddressSanitizer and UndefinedBehaviorSanitizer). Targets: spec (the YAML spec loader),
# domain_xml (import --from-xml: domain XML codec, spec emitter, comparison), plan_json (the
# saved-plan reader).
#
#   scripts/fuzz.sh build                  configure (once) and build the three targets
#   scripts/fuzz.sh run TARGET [SECONDS]   one bounded run: ctest's fuzz_* tests (default 40 s,
#                                          or $VIRTUMANCER_FUZZ_SECONDS); exit 77 (skipped)
#                                          when build-fuzz has not been built
#   scripts/fuzz.sh SECONDS [TARGET...]    long runs, one target after the other (default all)
#
# Seeds: specs/, tests/data, fuzz/seeds, fuzz/regressions and a sample of the libvirt XML
# corpus when it is present. New interesting inputs go to build-fuzz/corpus/TARGET (kept
# between runs); a finding is written to build-fuzz/artifacts/TARGET/ and the run fails. Fix
# it, then keep the input in fuzz/regressions/TARGET (replayed by the unit tests).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="${VIRTUMANCER_FUZZ_BUILD:-$ROOT/build-fuzz}"
TARGETS=(spec domain_xml plan_json)

build() {
  if [[ ! -f $B/build.ninja ]]; then
    cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DCMAKE_CXX_COMPILER=clang++ \
      -DVIRTUMANCER_FUZZ=ON -DVIRTUMANCER_TESTS=OFF -DVIRTUMANCER_BENCH=OFF >/dev/null
  fi
  cmake --build "$B" -j "${VIRTUMANCER_FUZZ_JOBS:-$(nproc)}" \
    --target "${TARGETS[@]/#/fuzz_}"
}

corpus_xml() {
  local c
  for c in "${VIRTUMANCER_CORPUS:-}" "$ROOT/../shared/corpus/libvirt-11.3.0" \
           /work/shared/corpus/libvirt-11.3.0; do
    [[ -n $c && -d $c ]] && { echo "$c"; return; }
  done
}

# Seed directories of a target (those that exist).
seeds() {
  local dirs=("$ROOT/fuzz/seeds/$1" "$ROOT/fuzz/regressions/$1")
  case $1 in
    spec) dirs+=("$ROOT/specs" "$ROOT/tests/data/specs") ;;
    domain_xml)
      dirs+=("$ROOT/tests/data/live" "$ROOT/tests/data/planner")
      local c; c="$(corpus_xml)"
      if [[ -n $c ]]; then # every 50th file of the corpus (23 files)
        mkdir -p "$B/seeds/domain_xml"
        find "$c" -maxdepth 1 -name '*.xml' | sort | awk 'NR % 50 == 1' |
          xargs -r cp -t "$B/seeds/domain_xml"
        dirs+=("$B/seeds/domain_xml")
      fi ;;
  esac
  local d
  for d in "${dirs[@]}"; do [[ -d $d ]] && echo "$d"; done
}

run() {
  local t=$1 secs=${2:-${VIRTUMANCER_FUZZ_SECONDS:-40}}
  local bin="$B/fuzz/fuzz_$t"
  if [[ ! -x $bin ]]; then
    echo "fuzz: $bin is not built (scripts/fuzz.sh build); skipped"
    exit 77
  fi
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
  local dirs
  mapfile -t dirs < <(seeds "$t")
  echo "fuzz: $t for ${secs}s; corpus $B/corpus/$t; seeds: ${dirs[*]}"
  # one process (no -jobs/-workers): the machine is shared
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" "${dirs[@]}"
}

case "${1:-}" in
  build) build ;;
  run) [[ $# -ge 2 ]] || { echo "usage: $0 run TARGET [SECONDS]" >&2; exit 2; }
       run "$2" "${3:-}" ;;
  ''|-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
  *)
    [[ $1 =~ ^[0-9]+$ ]] || { echo "usage: $0 build | run TARGET [SECONDS] | SECONDS [TARGET...]" >&2; exit 2; }
    secs=$1; shift
    (($#)) || set -- "${TARGETS[@]}"
    for t in "$@"; do run "$t" "$secs"; done ;;
esac

#!/usr/bin/env bash
# bench.sh - the benchmark of issue 7, in one command (as root, on the test libvirtd).
#
# Builds virtumancer and the C helpers in bench/ in Release (build-bench/), then for each N
# (default 1000 then 10000):
#   - writes N VirtualMachine specs (bench/gen_specs.py: two qcow2 file disks, two NICs on the
#     isolated network vmr-bench-net, VGA video + VNC, emulated TPM 2.0, a guest-agent channel,
#     a serial port and its console; state: shutoff), of which BENCH_RUNNING (default 32, the
#     same absolute count at every N) are `state: running`, 1 vCPU and 64 MiB (TCG guests
#     with no KVM: more would drown the measurement on a 2-core machine), spread evenly over
#     the names; their qcow2 images are created empty (qemu-img) in BENCH_DISKS, so they boot
#     strictly from an empty disk and idle in the firmware (no network boot),
#   - measures `virtumancer load` into an empty database and again with nothing changed,
#   - defines the domains and starts the running ones with `virtumancer apply` (timed, for
#     information); checks that libvirt has N domains of which BENCH_RUNNING are active,
#   - measures, interleaved, BENCH_REPEAT times: `virtumancer plan --detailed-exitcode`
#     (must say "No changes": the benchmark fails loudly otherwise, unless BENCH_ALLOW_CHANGES=1,
#     which only records the exit code: for measuring an older build that reports changes),
#     the floor (build-bench/bench/vmr-bench-floor: list + inactive XML of every domain, then
#     list of the active ones + the live XML of each, serially, one connection: plan compares
#     running domains with their live definition too, so the floor reads it as well) and
#     `virtumancer drift`,
# and prints every figure (median wall, user+sys CPU, peak RSS, libvirtd CPU), the ratios
# plan/floor and the growth from the first N to the last, and checks the targets.
#
# PostgreSQL beside SQLite (issue 14), in the same run: the same loads (each into a fresh
# database vmr_bench, its schema created by `db migrate` first and timed apart as migrate_pg,
# on the server of BENCH_PG_URI, default the test server's URI in
# /var/tmp/virtumancer-pg/uri; the role needs CREATEDB), then plan and drift interleaved with
# SQLite's over the same domains (the PostgreSQL database is given the SQLite database's owner
# id, so both manage the same fleet); the report prints the ratios PostgreSQL/SQLite and the
# server's CPU (its backends', as reaped by the postmaster of BENCH_PG_PIDFILE: on a shared
# test server that includes other clients' backends). Without a
# server that answers, the PostgreSQL part is skipped with a line saying so.
#
# Domains vmr-bench-* (destroyed first when running), their disk images in BENCH_DISKS and the
# network vmr-bench-net are removed at the start (left by an aborted run) and at the end; run it
# under `flock /tmp/vmr-e2e.lock` on a shared libvirtd. Environment: BENCH_SIZES="1000 10000",
# BENCH_REPEAT=5, BENCH_RUNNING=32, BENCH_SETTLE=10 (seconds to let the started guests reach
# their idle firmware loop before measuring), BENCH_WORK=/var/tmp/vmr-bench,
# BENCH_PARALLELISM (plan/drift --parallelism, default: theirs), BENCH_ALLOW_CHANGES=0,
# BENCH_PG_URI, BENCH_PG_PIDFILE=/var/tmp/virtumancer-pg/data/postmaster.pid, BENCH_PG=1 (0: skip).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
SIZES=${BENCH_SIZES:-"1000 10000"}
REPEAT=${BENCH_REPEAT:-5}
WORK=${BENCH_WORK:-/var/tmp/vmr-bench}
RUNNING=${BENCH_RUNNING:-32}
SETTLE=${BENCH_SETTLE:-10}
ALLOW_CHANGES=${BENCH_ALLOW_CHANGES:-0}
DISKS=/var/lib/virtumancer/bench # bench/gen_specs.py writes this path into the specs
URI=qemu:///system
PAR=()
[[ -n ${BENCH_PARALLELISM:-} ]] && PAR=(--parallelism "$BENCH_PARALLELISM")
VM=$BUILD/virtumancer
FLOOR=$BUILD/bench/vmr-bench-floor
TOOL=$BUILD/bench/vmr-bench-tool
RESULTS=$WORK/results.tsv

log() { echo "bench: $*" >&2; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }

# --- PostgreSQL (optional) --------------------------------------------------------------
PG=0
PG_BASE=${BENCH_PG_URI:-}
if [[ -z $PG_BASE && -r /var/tmp/virtumancer-pg/uri ]]; then PG_BASE=$(head -n1 /var/tmp/virtumancer-pg/uri); fi
PG_DB=vmr_bench
PG_PIDFILE=${BENCH_PG_PIDFILE:-/var/tmp/virtumancer-pg/data/postmaster.pid}
# The same server and credentials, database vmr_bench (the path of the URI replaced).
PG_URI=$(sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/$PG_DB#" <<<"$PG_BASE")
pg_redacted() { sed -E 's#(://[^:/@]*):[^@]*@#\1:****@#' <<<"$1"; }
if [[ ${BENCH_PG:-1} != 1 ]]; then
  log "PostgreSQL: SKIPPED (BENCH_PG=${BENCH_PG}): only SQLite is measured"
elif [[ -z $PG_BASE ]]; then
  log "PostgreSQL: SKIPPED: no server (no BENCH_PG_URI and no /var/tmp/virtumancer-pg/uri; scripts/testenv.sh start starts one): only SQLite is measured"
elif ! psql "$PG_BASE" -qAtX -c 'SELECT 1' >/dev/null 2>&1; then
  log "PostgreSQL: SKIPPED: the server at $(pg_redacted "$PG_BASE") does not answer: only SQLite is measured"
else
  PG=1
  log "PostgreSQL: measured beside SQLite in database $PG_DB at $(pg_redacted "$PG_URI")"
fi
pg_drop() { psql "$PG_BASE" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null; }
pg_fresh() { pg_drop && psql "$PG_BASE" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null; }
# CPU ticks of the server's backends that have exited (the postmaster's cutime + cstime; a
# backend ends when its client disconnects).
pg_ticks() {
  local pid
  ((PG)) || { echo 0; return; }
  pid=$(head -n1 "$PG_PIDFILE" 2>/dev/null) || { echo 0; return; }
  awk '{print $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0
}

# --- prerequisites ----------------------------------------------------------------------
[[ -x /usr/bin/time ]] || { log "installing GNU time"; apt-get install -y -q time >/dev/null; }
command -v python3 >/dev/null || die "python3 is needed to write the specs"
"$ROOT/scripts/testenv.sh" status >/dev/null 2>&1 || "$ROOT/scripts/testenv.sh" start

log "building (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIRTUMANCER_WERROR=ON \
  -DVIRTUMANCER_BENCH=ON >/dev/null
ninja -C "$BUILD" -j2 virtumancer vmr-bench-floor vmr-bench-tool >/dev/null

cleanup() {
  "$TOOL" undefine vmr-bench- "$URI" >&2 || true
  rm -f "$DISKS"/vmr-bench-*.qcow2
  if virsh -c "$URI" net-info vmr-bench-net >/dev/null 2>&1; then
    virsh -c "$URI" net-destroy vmr-bench-net >/dev/null 2>&1 || true
    virsh -c "$URI" net-undefine vmr-bench-net >/dev/null 2>&1 || true
    log "removed network vmr-bench-net"
  fi
}
trap 'cleanup; if ((PG)); then pg_drop || true; fi' EXIT
cleanup

rm -rf "$WORK"
mkdir -p "$WORK"
printf 'n\tstep\trun\twall_s\tcpu_s\trss_kib\tlibvirtd_cpu_s\trc\tpg_cpu_s\n' >"$RESULTS"

# CPU ticks (user+sys) of the QEMU processes of the running benchmark domains.
guest_ticks() {
  local f pid sum=0 t
  for f in /run/libvirt/qemu/vmr-bench-*.pid; do
    [[ -e $f ]] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || continue
    sum=$((sum + t))
  done
  echo "$sum"
}

libvirtd_ticks() {
  local pid
  pid=$(cat /run/libvirtd.pid 2>/dev/null) || { echo 0; return; }
  awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0
}

# measure N STEP RUN OUTFILE CMD... : runs CMD under GNU time, appends a row to $RESULTS,
# leaves CMD's stdout+stderr in OUTFILE and its exit code in $LAST_RC.
measure() {
  local n=$1 step=$2 run=$3 out=$4; shift 4
  local tf=$WORK/time.$$ t0 t1 hz
  hz=$(getconf CLK_TCK)
  t0=$(libvirtd_ticks)
  p0=$(pg_ticks)
  set +e
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$out" 2>&1
  LAST_RC=$?
  set -e
  t1=$(libvirtd_ticks)
  if [[ $step == *_pg ]]; then sleep 0.3; fi # let the backend exit and be reaped
  p1=$(pg_ticks)
  read -r wall user sys rss < <(tail -n1 "$tf") # GNU time may first note a non-zero exit
  local cpu lcpu pcpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u + s}')
  lcpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN{printf "%.2f", (b - a) / hz}')
  pcpu=$(awk -v a="$p0" -v b="$p1" -v hz="$hz" 'BEGIN{printf "%.2f", (b - a) / hz}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$step" "$run" "$wall" "$cpu" "$rss" "$lcpu" \
    "$LAST_RC" "$pcpu" >>"$RESULTS"
  log "N=$n $step#$run: ${wall}s wall, ${cpu}s cpu, $((rss / 1024)) MiB, libvirtd ${lcpu}s cpu, postgres ${pcpu}s cpu, rc $LAST_RC"
}

log "machine: $(nproc) cores, $(free -m | awk '/^Mem:/{print $2}') MiB RAM; load: $(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "nproc=$(nproc)"
  echo "mem_mib=$(free -m | awk '/^Mem:/{print $2}')"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  virsh -c "$URI" version 2>/dev/null | sed -n 's/^Using library: /libvirt=/p; s/^Running hypervisor: /hypervisor=/p'
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "running=$RUNNING"
  echo "date=$(date -u +%FT%TZ)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD)"
  if ((PG)); then echo "postgresql=$(psql "$PG_BASE" -qAtX -c 'SHOW server_version')"; else echo "postgresql=skipped"; fi
} >"$WORK/machine.txt"

for n in $SIZES; do
  specs=$WORK/specs-$n
  db=$WORK/bench-$n.db
  python3 "$ROOT/bench/gen_specs.py" "$specs" "$n" "$RUNNING"
  nrun=$(wc -l <"$specs/running.txt")
  log "N=$n: $(find "$specs" -name '*.yaml' | wc -l) spec files in $specs, $nrun running"

  # 3. load into an empty database, then again with nothing changed (BENCH_REPEAT times,
  # each into a new database; the last one is kept for the rest).
  for r in $(seq "$REPEAT"); do
    rm -f "$db" "$db"-*
    measure "$n" load_empty "$r" "$WORK/load-$n.out" "$VM" --db "$db" load "$specs"
    ((LAST_RC == 0)) || { cat "$WORK/load-$n.out"; die "load of $n specs failed"; }
    grep -q "$((n + 2)) inserted" "$WORK/load-$n.out" || { cat "$WORK/load-$n.out"; die "load did not insert $((n + 2)) specs"; }
    measure "$n" load_nochange "$r" "$WORK/reload-$n.out" "$VM" --db "$db" load "$specs"
    ((LAST_RC == 0)) || { cat "$WORK/reload-$n.out"; die "re-load failed"; }
    grep -q ' 0 inserted, 0 updated' "$WORK/reload-$n.out" || { cat "$WORK/reload-$n.out"; die "re-load changed something"; }
    ((PG)) || continue
    pg_fresh || die "could not create the database $PG_DB on the PostgreSQL server"
    # Creating the schema (the migrations, about 2 s on PostgreSQL, some 0.05 s in a new
    # SQLite file) is a one-time cost of a new database: timed on its own, not as the load.
    measure "$n" migrate_pg "$r" "$WORK/migrate-$n-pg.out" "$VM" --db "$PG_URI" db migrate
    ((LAST_RC == 0)) || { cat "$WORK/migrate-$n-pg.out"; die "db migrate on PostgreSQL failed"; }
    measure "$n" load_empty_pg "$r" "$WORK/load-$n-pg.out" "$VM" --db "$PG_URI" load "$specs"
    ((LAST_RC == 0)) || { cat "$WORK/load-$n-pg.out"; die "load of $n specs into PostgreSQL failed"; }
    grep -q "$((n + 2)) inserted" "$WORK/load-$n-pg.out" || { cat "$WORK/load-$n-pg.out"; die "load into PostgreSQL did not insert $((n + 2)) specs"; }
    measure "$n" load_nochange_pg "$r" "$WORK/reload-$n-pg.out" "$VM" --db "$PG_URI" load "$specs"
    ((LAST_RC == 0)) || { cat "$WORK/reload-$n-pg.out"; die "re-load into PostgreSQL failed"; }
    grep -q ' 0 inserted, 0 updated' "$WORK/reload-$n-pg.out" || { cat "$WORK/reload-$n-pg.out"; die "re-load into PostgreSQL changed something"; }
  done

  # Define the domains: virtumancer apply creates them (and the network). The previous N's
  # domains carry the previous database's owner id (another virtumancer database: never
  # touched, a name clash is an error), so they are removed first.
  cleanup
  mkdir -p "$DISKS"
  while read -r name; do
    for d in root data; do
      qemu-img create -q -f qcow2 "$DISKS/$name-$d.qcow2" 64M
    done
  done <"$specs/running.txt"
  measure "$n" apply_define 1 "$WORK/apply-$n.out" "$VM" --db "$db" apply --auto-approve
  ((LAST_RC == 0)) || { tail -n 40 "$WORK/apply-$n.out"; die "apply at N=$n failed"; }
  have=$("$TOOL" count vmr-bench- "$URI")
  ((have == n)) || die "expected $n vmr-bench-* domains after apply, libvirt has $have"
  up=$("$TOOL" running vmr-bench- "$URI")
  ((up == nrun)) || die "expected $nrun running vmr-bench-* domains after apply, libvirt has $up"
  if ((PG)); then
    # The PostgreSQL database manages the same domains: it takes the SQLite database's owner id.
    owner=$(sqlite3 "$db" 'SELECT owner_id FROM installation WHERE id = 1')
    [[ $owner =~ ^[0-9a-f]+$ ]] || die "could not read the owner id of $db"
    psql "$PG_URI" -qX -v ON_ERROR_STOP=1 -c "UPDATE installation SET owner_id = '$owner' WHERE id = 1" >/dev/null
  fi
  if ((nrun > 0)); then
    sleep "$SETTLE"
  fi
  g0=$(guest_ticks)
  s0=$(date +%s.%N)

  # 1, 2, 4: plan, floor and drift, interleaved so that load on the machine hits them alike.
  for r in $(seq "$REPEAT"); do
    measure "$n" plan "$r" "$WORK/plan-$n.out" "$VM" --db "$db" plan --detailed-exitcode "${PAR[@]}"
    if ((LAST_RC == 2 && ALLOW_CHANGES == 1)); then
      log "N=$n plan#$r reports changes (exit 2), kept as BENCH_ALLOW_CHANGES=1: $(grep -c '^  *[~+-]' "$WORK/plan-$n.out" || true) change lines"
      cp "$WORK/plan-$n.out" "$WORK/plan-$n-changes.out"
    elif ((LAST_RC != 0)); then
      echo "---- virtumancer plan at N=$n did not say 'No changes' (exit $LAST_RC); first lines:" >&2
      head -n 60 "$WORK/plan-$n.out" >&2
      die "plan at N=$n is not empty: that is a bug in virtumancer (report it)"
    fi
    ((LAST_RC == 2)) || grep -q '^No changes' "$WORK/plan-$n.out" || { head -n 20 "$WORK/plan-$n.out"; die "plan output lacks 'No changes'"; }
    if ((PG)); then
      measure "$n" plan_pg "$r" "$WORK/plan-$n-pg.out" "$VM" --db "$PG_URI" plan --detailed-exitcode "${PAR[@]}"
      if ((LAST_RC == 2 && ALLOW_CHANGES == 1)); then
        log "N=$n plan_pg#$r reports changes (exit 2), kept as BENCH_ALLOW_CHANGES=1"
      elif ((LAST_RC != 0)) || ! grep -q '^No changes' "$WORK/plan-$n-pg.out"; then
        head -n 60 "$WORK/plan-$n-pg.out" >&2
        die "plan on PostgreSQL at N=$n did not say 'No changes' (exit $LAST_RC)"
      fi
    fi
    measure "$n" floor "$r" "$WORK/floor-$n.out" "$FLOOR" "$URI"
    ((LAST_RC == 0)) || { cat "$WORK/floor-$n.out"; die "floor failed"; }
    measure "$n" drift "$r" "$WORK/drift-$n.out" "$VM" --db "$db" drift "${PAR[@]}"
    # The test libvirtd is shared: other people's e2e domains carrying virtumancer's marker
    # show up as "orphaned" (exit 2). Only our own objects must be in sync.
    if ((ALLOW_CHANGES == 1)) && grep -q '^bench/[a-z]*/vmr-bench' "$WORK/drift-$n.out"; then
      log "N=$n drift#$r reports the benchmark's objects (kept as BENCH_ALLOW_CHANGES=1)"
      cp "$WORK/drift-$n.out" "$WORK/drift-$n-changes.out"
    elif ((LAST_RC == 1)) || grep -q '^bench/[a-z]*/vmr-bench' "$WORK/drift-$n.out"; then
      head -n 40 "$WORK/drift-$n.out" >&2
      die "drift at N=$n reported drift on the benchmark's objects or failed (exit $LAST_RC)"
    fi
    grep -q ' object(s) checked' "$WORK/drift-$n.out" || die "drift printed no summary"
    if ((PG)); then
      measure "$n" drift_pg "$r" "$WORK/drift-$n-pg.out" "$VM" --db "$PG_URI" drift "${PAR[@]}"
      if ((LAST_RC == 1)) || { ((ALLOW_CHANGES != 1)) && grep -q '^bench/[a-z]*/vmr-bench' "$WORK/drift-$n-pg.out"; }; then
        head -n 40 "$WORK/drift-$n-pg.out" >&2
        die "drift on PostgreSQL at N=$n reported drift on the benchmark's objects or failed (exit $LAST_RC)"
      fi
      grep -q ' object(s) checked' "$WORK/drift-$n-pg.out" || die "drift on PostgreSQL printed no summary"
    fi
  done
  g1=$(guest_ticks)
  s1=$(date +%s.%N)
  guest=$(awk -v a="$g0" -v b="$g1" -v hz="$(getconf CLK_TCK)" -v t0="$s0" -v t1="$s1" \
    'BEGIN{printf "%.2f", (b - a) / hz / (t1 - t0)}')
  echo "running_$n=$nrun" >>"$WORK/machine.txt"
  echo "guest_cores_$n=$guest" >>"$WORK/machine.txt"
  log "N=$n: the $nrun running guests used $guest cores on average while plan/floor/drift ran"
  log "N=$n floor: $(cat "$WORK/floor-$n.out")"
  log "N=$n drift: $(tail -n1 "$WORK/drift-$n.out") (not ours: $(grep -c '^[a-z0-9_-]*/[a-z]*/' "$WORK/drift-$n.out" || true))"
done
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/machine.txt"

cleanup
if ((PG)); then pg_drop || true; fi
trap - EXIT

python3 "$ROOT/bench/report.py" "$RESULTS" "$WORK/machine.txt" | tee "$WORK/report.txt"
# Keep the figures and the command outputs; the generated specs and databases are large.
rm -rf "$WORK"/specs-* "$WORK"/bench-*.db*
log "figures in $WORK/report.txt and $RESULTS"

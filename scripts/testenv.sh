#!/usr/bin/env bash
# testenv.sh - bring up a real libvirtd with the QEMU driver (TCG, no systemd, no KVM) and a
# PostgreSQL 15 server of its own for integration tests on Debian 12, as root.
#
#   start   install missing packages, create user/group/dirs/config, start virtlogd and
#           libvirtd, wait until `virsh -c qemu:///system list` answers; initialise (once) and
#           start the test PostgreSQL (no-op for what is ready)
#   stop    destroy running guests, stop libvirtd, leftover qemu processes, virtlogd and the
#           test PostgreSQL
#   status  report daemons, virsh and PostgreSQL; exit 0 if ready, 1 otherwise
#
# The test PostgreSQL is not Debian's `main` cluster: its own data directory ($PG_DIR/data),
# port ($PG_PORT, 127.0.0.1 only) and socket directory, a password login role `virtumancer`
# owning the database `virtumancer_test`. Its connection URI (with the generated password) is
# written to $PG_DIR/uri; tests read it from there or from VIRTUMANCER_TEST_PG_URI.
#
# The test guest (a Debian kernel and a busybox initramfs, tests/support/make_guest.sh) is built
# in $GUEST_DIR (default /var/tmp/virtumancer-guest/guest).
#
# Logs: /var/log/libvirt/libvirtd.log, /var/log/libvirt/virtlogd.log, $PG_DIR/postgresql.log
set -euo pipefail

URI=qemu:///system
PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
      iptables dnsmasq-base swtpm swtpm-tools ovmf postgresql-15 busybox-static
      xorriso)  # checks the cloud-init seed images (tests/unit/iso9660_test.cpp)
LIBDIR=/usr/lib/x86_64-linux-gnu/libvirt
LOG=/var/log/libvirt/libvirtd.log
MARK="# written by scripts/testenv.sh"
START_TIMEOUT=60
PG_DIR=${VIRTUMANCER_TEST_PG_DIR:-/var/tmp/virtumancer-pg}
PG_PORT=${VIRTUMANCER_TEST_PG_PORT:-55432}
PG_BIN=/usr/lib/postgresql/15/bin
PG_DB=virtumancer_test
PG_ROLE=virtumancer
GUEST_DIR=${VIRTUMANCER_GUEST_DIR:-/var/tmp/virtumancer-guest/guest}

log() { echo "testenv: $*" >&2; }

# is this pid a live process (zombies do not count)?
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }

# pid of a daemon from its pidfile, if that process is alive
pid_of() {
  local pid
  pid=$(cat "/run/$1.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && alive "$pid" && echo "$pid"
}

virsh_ok() { timeout 10 virsh -c "$URI" list >/dev/null 2>&1; }

# SIGTERM a pid, wait up to 15 s, then SIGKILL
stop_pid() {
  local pid=$1 _
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 30); do alive "$pid" || return 0; sleep 0.5; done
  log "pid $pid did not exit, killing"; kill -9 "$pid" 2>/dev/null || true
}

# write a config file unless someone else's version is already there
write_conf() {
  local file=$1; shift
  if [[ -e $file ]] && ! grep -qxF "$MARK" "$file"; then
    log "keeping existing $file (not written by this script)"; return
  fi
  printf '%s\n' "$MARK" "$@" >"$file"
}

install_packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  local so
  for so in connection-driver/libvirt_driver_qemu.so connection-driver/libvirt_driver_storage.so \
            connection-driver/libvirt_driver_network.so storage-backend/libvirt_storage_backend_fs.so; do
    [[ -e $LIBDIR/$so ]] || { log "missing $LIBDIR/$so"; exit 1; }
  done
}

prepare_host() {
  # the QEMU driver resolves its built-in default user and group (both libvirt-qemu on
  # Debian 12) at start-up even when qemu.conf overrides them
  local g
  for g in kvm libvirt-qemu; do getent group "$g" >/dev/null || groupadd -r "$g"; done
  getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -M -s /usr/sbin/nologin libvirt-qemu
  mkdir -p /etc/libvirt /var/log/libvirt /var/lib/libvirt/images /run/libvirt
  write_conf /etc/libvirt/qemu.conf 'user = "root"' 'group = "root"'
  write_conf /etc/libvirt/libvirtd.conf 'log_level = 3' "log_outputs = \"3:file:$LOG\""
  write_conf /etc/libvirt/virtlogd.conf 'log_level = 3' \
    'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"'
}

as_pg() { runuser -u postgres -- "$@"; }
pg_ok() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 &&
          "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 5; }
psql_admin() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -d postgres "$@"; }

start_pg() {
  if pg_ok; then log "postgresql already running (port $PG_PORT)"; return 0; fi
  mkdir -p "$PG_DIR"; chown postgres:postgres "$PG_DIR"; chmod 755 "$PG_DIR"
  if [[ ! -s $PG_DIR/data/PG_VERSION ]]; then
    log "initialising PostgreSQL data directory $PG_DIR/data"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgresql.log" -w -t "$START_TIMEOUT" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start \
    >/dev/null || { log "postgresql did not start; tail of $PG_DIR/postgresql.log:"
                    tail -n 40 "$PG_DIR/postgresql.log" >&2 || true; exit 1; }
  local pw
  if [[ -s $PG_DIR/password ]]; then pw=$(cat "$PG_DIR/password")
  else pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20); echo "$pw" >"$PG_DIR/password"; fi
  chmod 600 "$PG_DIR/password"
  psql_admin -v pw="$pw" <<SQL
SELECT 'CREATE ROLE $PG_ROLE LOGIN CREATEDB' WHERE NOT EXISTS
  (SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE') \gexec
ALTER ROLE $PG_ROLE LOGIN CREATEDB PASSWORD :'pw';
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_ROLE' WHERE NOT EXISTS
  (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
SQL
  # a throwaway password of a server that listens on 127.0.0.1 only: readable by the tests
  echo "postgresql://$PG_ROLE:$pw@127.0.0.1:$PG_PORT/$PG_DB" >"$PG_DIR/uri"
  chmod 644 "$PG_DIR/uri"
  log "postgresql ready (127.0.0.1:$PG_PORT, database $PG_DB; URI in $PG_DIR/uri)"
}

stop_pg() {
  [[ -d $PG_DIR/data ]] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null && log "postgresql stopped"
}

# The real-guest e2e tests (tests/e2e/wait_ip_test.cpp) boot Debian's kernel with a busybox
# initramfs: the kernel is extracted from linux-image-amd64's .deb into a cache (never installed
# on this machine), once. A failure only warns: those tests then skip, saying why.
prepare_guest() {
  local here; here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  "$here/tests/support/make_guest.sh" "$GUEST_DIR" >/dev/null ||
    log "warning: could not prepare the test guest in $GUEST_DIR (real-guest e2e tests will skip)"
}

do_start() {
  install_packages
  prepare_guest
  start_pg
  if pid_of libvirtd >/dev/null && pid_of virtlogd >/dev/null && virsh_ok; then
    log "already running"; return 0
  fi          # iptables must be present before libvirtd starts
  prepare_host
  pid_of virtlogd >/dev/null || virtlogd -d
  pid_of libvirtd >/dev/null || libvirtd -d
  local deadline=$((SECONDS + START_TIMEOUT))
  until virsh_ok; do
    if ((SECONDS >= deadline)) || ! pid_of libvirtd >/dev/null; then
      log "libvirtd not ready after ${START_TIMEOUT}s (or it died); tail of $LOG:"
      tail -n 40 "$LOG" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done
  log "ready ($URI)"
}

do_stop() {
  local dom pid f
  if pid_of libvirtd >/dev/null && virsh_ok; then
    for dom in $(virsh -c "$URI" list --name); do
      virsh -c "$URI" destroy "$dom" >/dev/null || true
    done
  fi
  if pid=$(pid_of libvirtd); then stop_pid "$pid"; fi
  for f in /run/libvirt/qemu/*.pid; do        # guests libvirtd left behind
    [[ -e $f ]] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    [[ -n $pid ]] && alive "$pid" && { log "killing leftover qemu $pid"; stop_pid "$pid"; }
  done
  if pid=$(pid_of virtlogd); then stop_pid "$pid"; fi
  stop_pg
  log "stopped"
}

do_status() {
  local d pid ready=0
  for d in virtlogd libvirtd; do
    if pid=$(pid_of "$d"); then echo "$d: running (pid $pid)"; else echo "$d: not running"; ready=1; fi
  done
  if virsh_ok; then echo "virsh -c $URI: answers"; else echo "virsh -c $URI: no answer"; ready=1; fi
  if pg_ok; then echo "postgresql: running (127.0.0.1:$PG_PORT, URI in $PG_DIR/uri)"
  else echo "postgresql: not running ($PG_DIR)"; ready=1; fi
  return "$ready"
}

[[ $EUID -eq 0 ]] || { log "must run as root"; exit 1; }
case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

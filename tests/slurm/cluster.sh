#!/usr/bin/env bash
# cluster.sh up|down|env DIR [SLOTS]: a one-node Slurm cluster on localhost
# for the Slurm launcher's tests and benchmark, with everything under DIR:
# its own munge daemon (key and socket), slurmctld and slurmd, no systemd,
# no accounting, no cgroups. `down` stops them by the PIDs they wrote.
#
# `up` installs the Debian packages when they are missing and it can (root
# and apt-get). When the cluster cannot come up here it prints
# "skipped: REASON" and exits 77, which the tests report as a skip.
set -euo pipefail
cmd=${1:?usage: cluster.sh up|down|env DIR [SLOTS]}
dir=${2:?usage: cluster.sh up|down|env DIR [SLOTS]}
slots=${3:-64}
conf=$dir/slurm.conf
export SLURM_CONF=$conf
log() { echo "cluster.sh: $*" >&2; }
skip() { # the reason, also in DIR/skipped for the tests to show
  mkdir -p "$dir"
  echo "$*" >"$dir/skipped"
  echo "skipped: $*"
  exit 77
}

# The pid in a pid file, when that process still runs the given binary.
pid_of() {
  local p exe
  [ -s "$1" ] || return 1
  p=$(cat "$1")
  exe=$(readlink -f "/proc/$p/exe" 2>/dev/null) || return 1
  [ "$exe" = "$(readlink -f "$(command -v "$2")")" ] && echo "$p"
}

wait_until() { # tenths-of-a-second command...
  local n=$1
  shift
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

free_port() { # a TCP port nothing listens on, from $1 up
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

have_slurm() {
  command -v slurmctld && command -v slurmd && command -v srun && command -v munged
} >/dev/null 2>&1

node_idle() { [ "$(sinfo -h -n localhost -o %T)" = idle ]; }

up() {
  rm -f "$dir/skipped"
  [ "$(id -u)" = 0 ] || skip "a Slurm cluster on localhost needs root (slurmd runs jobs as root here)"
  if ! have_slurm; then
    command -v apt-get >/dev/null || skip "Slurm is not installed and apt-get is missing"
    log "installing slurmctld slurmd slurm-client munge"
    # The project's installer: apt-get update first, quiet, idempotent.
    "$(dirname "$0")/../../scripts/setup-deps.sh" slurmctld slurmd slurm-client munge >&2 ||
      skip "Slurm is not installed and apt-get could not install it (slurmctld slurmd slurm-client munge)"
    have_slurm || skip "Slurm is still missing after installing slurmctld slurmd slurm-client munge"
  fi
  down 2>/dev/null || true
  rm -rf "$dir/state" "$dir/spool"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  chmod 755 "$dir" # munged wants its socket's directory world-executable
  [ -s "$dir/munge.key" ] || (umask 277 && head -c 1024 /dev/urandom >"$dir/munge.key")
  munged --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"
  local ctld_port slurmd_port
  ctld_port=$(free_port 16817)
  slurmd_port=$(free_port $((ctld_port + 1)))
  cat >"$conf" <<EOF
ClusterName=maestrotest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
InactiveLimit=30
KillWait=5
SlurmdParameters=config_overrides
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$slots State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld
  wait_until 300 scontrol ping || { tail -n 20 "$dir/log/slurmctld.log" >&2; down; exit 1; }
  slurmd -N localhost
  wait_until 300 node_idle || { tail -n 20 "$dir/log/slurmd.log" >&2; down; exit 1; }
  log "up: $(sinfo -h -o '%P %D %T %C'), SLURM_CONF=$conf"
}

stop_pid() { # pidfile binary: SIGTERM, up to 10 s, then SIGKILL
  local p
  p=$(pid_of "$1" "$2") || { rm -f "$1"; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  wait_until 100 bash -c "! kill -0 $p" || kill -KILL "$p" 2>/dev/null || true
  rm -f "$1"
}

down() {
  [ -d "$dir" ] || return 0
  if pid_of "$dir/slurmctld.pid" slurmctld >/dev/null; then
    local jobs
    jobs=$(squeue -h -o %i 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      wait_until 100 bash -c '[ -z "$(squeue -h)" ]' || true
    fi
  fi
  # A slurmstepd of this cluster that outlived its job: found by the log it
  # holds open under DIR, killed with what it runs.
  local p f stepd
  stepd=$(readlink -f "$(command -v slurmstepd 2>/dev/null)" 2>/dev/null || echo none)
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$(readlink -f "/proc/$p/exe" 2>/dev/null)" = "$stepd" ] || continue
    for f in /proc/"$p"/fd/*; do
      if [[ $(readlink "$f" 2>/dev/null) == "$dir/"* ]]; then
        pkill -KILL -P "$p" 2>/dev/null || true
        kill -KILL "$p" 2>/dev/null || true
        break
      fi
    done
  done
  stop_pid "$dir/slurmd.pid" slurmd
  stop_pid "$dir/slurmctld.pid" slurmctld
  stop_pid "$dir/munged.pid" munged
}

case $cmd in
  up) up ;;
  down) down ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *)
    echo "usage: cluster.sh up|down|env DIR [SLOTS]" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# slurm-cluster.sh: a real multi-host Slurm test cluster on one machine (Debian 12, slurm-wlm 22.05).
#
# One slurmctld and N compute hosts (default 3). Each host is its own network namespace (a veth
# pair to a bridge this script creates, its own address), its own UTS namespace (hostname = node
# name), its own PID namespace (killing the host's init kills every process on it, job steps
# included, as a power loss would) and a mount namespace whose /etc/hosts names every node, so
# node names resolve as MASTER_ADDR does on a real cluster. All hosts share the filesystem, as
# cluster nodes share a parallel filesystem. Traffic flows only between the addresses created
# here (bridge subnet) and loopback; nothing is routed or NATed.
#
# It runs beside the one-host test Slurm (../shared/tools/slurm-local.sh): its own controller
# port, state, spool and log folders, and its own config file. Client commands reach it through
# SLURM_CONF (`eval "$(slurm-cluster.sh env)"`). munged is shared (same key, same socket).
#
# Usage (as root):
#   slurm-cluster.sh up                 start (idempotent); waits (bounded) until every host is idle
#   slurm-cluster.sh down               cancel this cluster's jobs, stop what this script started,
#                                       remove namespaces, veths and the bridge
#   slurm-cluster.sh status             daemons, nodes and jobs
#   slurm-cluster.sh env                print `export SLURM_CONF=...` for client commands
#   slurm-cluster.sh kill-host NODE     lose a host: SIGKILL its PID namespace (slurmd, slurmstepd,
#                                       job processes), as a crashed node
#   slurm-cluster.sh start-host NODE    boot a lost host again; it rejoins (ReturnToService=2)
#   slurm-cluster.sh wait-node NODE STATE-REGEX [SECONDS]   bounded wait for a node state
# Env: RETINA_CLUSTER_DIR (default /tmp/retina-cluster), RETINA_CLUSTER_HOSTS (3),
#      RETINA_CLUSTER_NET (10.213.7, a /24 prefix), RETINA_CLUSTER_PORT (6917, slurmctld),
#      RETINA_CLUSTER_SLURMD_TIMEOUT (10 s: how soon a lost host is declared DOWN).
set -euo pipefail

BASE=${RETINA_CLUSTER_DIR:-/tmp/retina-cluster}
HOSTS=${RETINA_CLUSTER_HOSTS:-3}
NET=${RETINA_CLUSTER_NET:-10.213.7}
CTLD_PORT=${RETINA_CLUSTER_PORT:-6917}
SLURMD_TIMEOUT=${RETINA_CLUSTER_SLURMD_TIMEOUT:-10}
CONF=$BASE/slurm.conf RUN=$BASE/run LOG=$BASE/log
BRIDGE=rtcbr0 CTLD_ADDR=$NET.1
# Each host's CPUs and memory as Slurm sees them: the hosts share this machine's CPUs (on a
# 2-core machine, three 2-CPU hosts oversubscribe it 3x; a test cluster, not a benchmark rig).
HOST_CPUS=${RETINA_CLUSTER_HOST_CPUS:-2}
HOST_MEM=${RETINA_CLUSTER_HOST_MEM:-4000}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export SLURM_CONF=$CONF

say() { echo "[slurm-cluster] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do ((SECONDS < end)) || return 1; sleep 0.25; done; }
gone() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [[ -z $s || $s == Z* ]]; }

node() { echo "h$1"; }                 # node name of host i (1-based)
addr() { echo "$NET.$((10 + $1))"; }   # its address
netns() { echo "rtc-$(node "$1")"; }   # its network namespace
# Validate a node name given on the command line (not inside $(...): die must end the script).
check_host() { [[ ${1:-} =~ ^h([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 1 && BASH_REMATCH[1] <= HOSTS)) || die "no host '${1:-}' (h1..h$HOSTS)"; }
index_of() { echo "${1#h}"; }

# Pid recorded in $RUN/NAME.pid, only while that pid still runs COMM (guards against pid reuse).
ourpid() {
  local p; p=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] && ! gone "$p" && [[ $(cat "/proc/$p/comm" 2>/dev/null) == "$2" ]] && echo "$p"
}

lock() { install -d -m 0755 "$BASE"; exec 9>"$BASE/.lock"; flock -w 300 9 || die "lock $BASE/.lock busy"; }

need_tools() {
  local t missing=()
  for t in slurmctld slurmd sbatch munge ip unshare setsid flock; do command -v "$t" >/dev/null || missing+=("$t"); done
  ((${#missing[@]} == 0)) || die "missing ${missing[*]}: install slurm-wlm, munge, iproute2, util-linux (../shared/tools/slurm-local.sh up installs Slurm and munge)"
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || die "munge does not work: start munged first (../shared/tools/slurm-local.sh up starts one)"
}

write_conf() {
  install -d -m 0755 "$BASE/ctld" "$BASE/spool" "$LOG" "$RUN"
  local ctl_host; ctl_host=$(hostname -s 2>/dev/null || uname -n); ctl_host=${ctl_host%%.*}
  {
    echo "# written by test/cluster/slurm-cluster.sh: $HOSTS-host test cluster, one host per network namespace"
    echo "ClusterName=retina-test"
    echo "SlurmctldHost=$ctl_host($CTLD_ADDR)"
    echo "SlurmctldPort=$CTLD_PORT"
    echo "SlurmdPort=6818"
    cat <<EOF
SlurmUser=root
AuthType=auth/munge
# A requeued job waits until the old instance's credential expires (default 120 s): shorter here.
AuthInfo=cred_expire=20
StateSaveLocation=$BASE/ctld
SlurmdSpoolDir=$BASE/spool/%n
SlurmctldPidFile=$RUN/slurmctld.self.pid
SlurmdPidFile=$RUN/slurmd-%n.self.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
# A lost host is DOWN after this many seconds without an answer; its batch jobs are requeued.
SlurmdTimeout=$SLURMD_TIMEOUT
MessageTimeout=5
# A node that reboots rejoins as idle on its own.
ReturnToService=2
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((HOST_MEM / HOST_CPUS))
MaxArraySize=10001
MaxJobCount=20000
# Keep finished jobs listed by squeue for 10 minutes (no accounting database here).
MinJobAge=600
SlurmdParameters=config_overrides
EOF
    for ((i = 1; i <= HOSTS; i++)); do
      echo "NodeName=$(node "$i") NodeHostname=$(node "$i") NodeAddr=$(addr "$i") CPUs=$HOST_CPUS RealMemory=$HOST_MEM State=UNKNOWN"
    done
    echo "PartitionName=hosts Nodes=h[1-$HOSTS] Default=YES MaxTime=INFINITE State=UP"
  } >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  # Every host's /etc/hosts (bind-mounted in its mount namespace): the machine's own entries,
  # then the controller and every node by name.
  {
    cat /etc/hosts
    echo "# retina test cluster"
    echo "$CTLD_ADDR $ctl_host-cluster"
    for ((i = 1; i <= HOSTS; i++)); do echo "$(addr "$i") $(node "$i")"; done
  } >"$BASE/hosts"
}

net_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$CTLD_ADDR/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  for ((i = 1; i <= HOSTS; i++)); do
    local ns; ns=$(netns "$i")
    if ! ip netns list | grep -qw "$ns"; then
      ip netns add "$ns"
      ip link add "$ns" type veth peer name eth0 netns "$ns"
      ip link set "$ns" master "$BRIDGE" up
      ip -n "$ns" addr add "$(addr "$i")/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" link set lo up
    fi
  done
}

# TCP from inside each host to the controller's port (no ping binary needed).
reach_ctld() { timeout 2 ip netns exec "$(netns "$1")" bash -c "exec 3<>/dev/tcp/$CTLD_ADDR/$CTLD_PORT" 2>/dev/null; }
check_net() {
  for ((i = 1; i <= HOSTS; i++)); do
    wait_for 10 reach_ctld "$i" || die "host $(node "$i") cannot reach the controller at $CTLD_ADDR:$CTLD_PORT over $BRIDGE (a firewall on bridged traffic?)"
  done
}

net_down() {
  for ((i = 1; i <= HOSTS; i++)); do
    local ns; ns=$(netns "$i")
    ip link del "$ns" 2>/dev/null || true       # deleting one end removes the pair
    ip netns del "$ns" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

start_ctld() {
  if ourpid slurmctld slurmctld >/dev/null; then return 0; fi
  setsid slurmctld -D -i -f "$CONF" >>"$LOG/slurmctld.out" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/slurmctld.pid"
  wait_for 10 scontrol ping >/dev/null 2>&1 || { tail -n 20 "$LOG/slurmctld.out" "$LOG/slurmctld.log" >&2 2>/dev/null; die "slurmctld did not answer within 10 s"; }
  say "started slurmctld (pid $(<"$RUN/slurmctld.pid")) on $CTLD_ADDR:$CTLD_PORT"
}

# Boot host i: a bash init (pid 1 of the host's PID namespace, it reaps orphans) that sets the
# hostname, mounts the cluster's /etc/hosts and a fresh /proc, and runs slurmd in the foreground.
start_host() {
  local i=$1 n; n=$(node "$i")
  if ourpid "host-$n" unshare >/dev/null; then return 0; fi
  install -d -m 0755 "$BASE/spool/$n"
  local init="hostname $n; mount --bind '$BASE/hosts' /etc/hosts; slurmd -D -N $n -f '$CONF' & wait \$!"
  # nsenter, not `ip netns exec`: the latter mounts a fresh /sys without the cgroup mounts slurmd needs.
  setsid nsenter --net="/run/netns/$(netns "$i")" unshare --pid --fork --mount-proc --uts --mount --propagation private \
    bash -c "$init" >>"$LOG/host-$n.out" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/host-$n.pid"
  # nsenter execs unshare in place, so the recorded pid becomes unshare's.
  wait_for 5 ourpid "host-$n" unshare >/dev/null || { tail -n 20 "$LOG/host-$n.out" >&2; die "host $n did not start"; }
}

# The host's init: unshare's only child (pid 1 inside the namespace).
host_init() { local p; p=$(ourpid "host-$1" unshare) && pgrep -P "$p" | head -n1; }

kill_host() {
  local n=$1 init p
  p=$(ourpid "host-$n" unshare) || { say "host $n is not running"; return 0; }
  init=$(host_init "$n") || true
  # SIGKILL to a PID namespace's init kills every process in the namespace at once.
  [[ -n $init ]] && kill -KILL "$init" 2>/dev/null || true
  wait_for 10 gone "$p" || kill -KILL "$p" 2>/dev/null || true
  rm -f "$RUN/host-$n.pid"
  say "host $n lost (its PID namespace was killed)"
}

node_state() { sinfo -h -N -n "$1" -o %T 2>/dev/null | head -n1; }
state_is() { [[ $(node_state "$1") =~ $2 ]]; }
wait_node() {
  local n=$1 re=$2 s=${3:-60}
  wait_for "$s" state_is "$n" "$re" || die "node $n: state '$(node_state "$n")' after ${s} s, expected /$re/"
}
all_idle() { for ((i = 1; i <= HOSTS; i++)); do state_is "$(node "$i")" '^idle$' || return 1; done; }
any_died() { ! ourpid slurmctld slurmctld >/dev/null && return 0; for ((i = 1; i <= HOSTS; i++)); do ourpid "host-$(node "$i")" unshare >/dev/null || return 0; done; return 1; }
idle_or_died() { all_idle || any_died; }

up() {
  local t0=$SECONDS
  need_tools
  ourpid slurmctld slurmctld >/dev/null || write_conf   # never rewrite under a running controller
  net_up
  start_ctld
  check_net
  for ((i = 1; i <= HOSTS; i++)); do start_host "$i"; done
  wait_for 60 idle_or_died || true
  if ! all_idle; then
    sinfo -N >&2 || true
    tail -n 10 "$LOG"/slurmd-*.log "$LOG"/host-*.out >&2 2>/dev/null || true
    die "hosts not idle within 60 s, or a daemon died (logs above; '$0 down' cleans up)"
  fi
  say "up in $((SECONDS - t0)) s: $HOSTS hosts; clients: export SLURM_CONF=$CONF"
  sinfo -N -h -o '%N %T cpus=%c mem=%m partition=%P'
}

down() {
  if ourpid slurmctld slurmctld >/dev/null; then
    squeue -h -o %A 2>/dev/null | sort -u | xargs -r scancel 2>/dev/null || true
    wait_for 20 bash -c '[[ -z $(squeue -h -t R,CG 2>/dev/null) ]]' || say "jobs still running; their hosts are stopped anyway"
  fi
  for ((i = 1; i <= HOSTS; i++)); do kill_host "$(node "$i")" >/dev/null 2>&1; done
  local p
  if p=$(ourpid slurmctld slurmctld); then
    kill -TERM "$p" 2>/dev/null || true
    wait_for 20 gone "$p" || kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$RUN/slurmctld.pid"
  net_down
  # State (job ids, queue) is test data: start afresh next time. Logs stay for post-mortems.
  rm -rf "$BASE/ctld" "$BASE/spool"
  say "down"
}

status() {
  local p
  if p=$(ourpid slurmctld slurmctld); then echo "slurmctld: running (pid $p)"; else echo "slurmctld: not running"; fi
  for ((i = 1; i <= HOSTS; i++)); do
    local n; n=$(node "$i")
    if p=$(ourpid "host-$n" unshare); then echo "host $n: up (pid $p, $(addr "$i"))"; else echo "host $n: not running"; fi
  done
  if scontrol ping >/dev/null 2>&1; then sinfo -N; squeue; else echo "no slurmctld answering at $CTLD_ADDR:$CTLD_PORT"; fi
}

[[ $(id -u) == 0 || ${1:-} == env ]] || die "run as root (namespaces and a bridge)"
case ${1:-} in
  up) lock; up ;;
  down) lock; down ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  kill-host) check_host "${2:-}"; lock; kill_host "$2" ;;
  start-host) check_host "${2:-}"; lock; start_host "$(index_of "$2")"; say "host $2 booting" ;;
  wait-node) check_host "${2:-}"; wait_node "$2" "${3:?state regex}" "${4:-60}" ;;
  *) echo "usage: $0 up|down|status|env|kill-host NODE|start-host NODE|wait-node NODE REGEX [S]" >&2; exit 2 ;;
esac

#!/bin/bash
# slurm-cluster.sh - a real 2-node Slurm cluster on this machine (Slurm 22.05 + MUNGE, Debian 12):
# munged in the root namespace (its socket is a file, reachable from every namespace),
# slurmctld in namespace PREFIX-ctl (hostname ctl, SUBNET.10), one slurmd in each of
# PREFIX-n1 and PREFIX-n2 (hostnames n1/n2, SUBNET.1/.2), joined by a bridge in PREFIX-sw.
# Recipe, pitfalls and measurements: shared/slurm.md; how to use it: docs/cluster.md.
#
#   slurm-cluster.sh up            (re)make the namespaces, start munged/slurmctld/2 slurmd,
#                                  wait until both nodes are idle (exit 1 with the logs if not)
#   slurm-cluster.sh down          stop the daemons by the PIDs in their pid files (TERM, then
#                                  KILL after 5 s), kill by PID whatever is left in a PREFIX-*
#                                  namespace (orphaned slurmstepd, ranks), delete the namespaces
#   slurm-cluster.sh sl CMD...     run CMD on the "login node" (namespace PREFIX-ctl, SLURM_CONF
#                                  set): sl sinfo, sl srun -N2 -n2 ..., sl sbatch --wait ...
#   slurm-cluster.sh conf          print the path of slurm.conf
#   slurm-cluster.sh slurmd-kill NODE | slurmd-start NODE    SIGKILL / (re)start NODE's slurmd
#   slurm-cluster.sh cut NODE | mend NODE                    take NODE's switch port down / up
#   slurm-cluster.sh pids NODE     PIDs of the processes in NODE's namespace (NODE: n1 n2 ctl)
#   slurm-cluster.sh wait-idle [S] wait up to S seconds (default 30) until both nodes are idle
#
# Environment:
#   HPL_SLURM_DIR        scratch folder for keys, sockets, spool, state, logs and slurm.conf
#                        (default: build/slurm-cluster in this repository); `up` empties only
#                        its own subfolders (munge ctld log spool tmp) and slurm.conf
#   HPL_SLURM_PREFIX     namespace prefix (default sl)       HPL_SLURM_SUBNET  /24 (default 10.78.0)
#   HPL_SLURMD_TIMEOUT   SlurmdTimeout (default 3)           HPL_SLURM_MESSAGE_TIMEOUT (default 5)
# Needs root, `ip netns`, nsenter/unshare (util-linux), slurmctld, slurmd, slurm-client, munge.
# Every daemon is started with stdin/stdout/stderr on /dev/null (pitfall 3); nothing is
# written under /etc, /var or /run/munge, and the root namespace's network is not touched.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D=$(realpath -m "${HPL_SLURM_DIR:-$HERE/../../build/slurm-cluster}")
P=${HPL_SLURM_PREFIX:-sl}
SUBNET=${HPL_SLURM_SUBNET:-10.78.0}
NODES="n1 n2"

die() { echo "slurm-cluster.sh: $*" >&2; exit 1; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
node_ns() {
    case "$1" in n1|n2|ctl) echo "$P-$1" ;; *) die "unknown node '$1' (n1, n2 or ctl)" ;; esac
}
# the pid in FILE if that process is still the daemon NAME (a stale pid file names no one)
live_pid() {
    local f=$1 name=$2 p
    [ -s "$f" ] || return 1
    p=$(cat "$f")
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$name" ] && echo "$p"
}

down() {
    local pids="" p f name
    for f in "$D"/spool/slurmd-*.pid:slurmd "$D"/ctld/slurmctld.pid:slurmctld "$D"/munge/munged.pid:munged; do
        name=${f##*:}; f=${f%:*}
        p=$(live_pid "$f" "$name") || continue
        kill -TERM "$p" 2>/dev/null && pids="$pids $p"
    done
    for _ in $(seq 50); do           # all at once: each daemon takes about 2 s to exit
        local alive=""
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    # what is left in our namespaces (orphaned slurmstepd and ranks after a node fault): by PID
    for ns in $(ip netns list 2>/dev/null | awk -v p="^$P-" '$1 ~ p {print $1}'); do
        for _ in 1 2 3; do
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        done
        ip netns del "$ns"
    done
}

write_conf() {
    local cpus
    cpus=$(nproc)
    sed -e "s|@D@|$D|g" -e "s|@SUBNET@|$SUBNET|g" -e "s|@CPUS@|$cpus|g" \
        -e "s|@SLURMD_TIMEOUT@|${HPL_SLURMD_TIMEOUT:-3}|g" \
        -e "s|@MESSAGE_TIMEOUT@|${HPL_SLURM_MESSAGE_TIMEOUT:-5}|g" \
        "$HERE/slurm.conf.in" > "$D/slurm.conf"
}

start_slurmd() {
    local n=$1
    # nsenter --net, not `ip netns exec`: that remounts /sys and slurmd then finds no cgroup
    # filesystem (pitfall 1); unshare --uts gives the node its own hostname
    nsenter --net="/run/netns/$P-$n" unshare --uts sh -c 'hostname "$1"; exec slurmd -f "$2" -N "$1"' \
        - "$n" "$D/slurm.conf" </dev/null >/dev/null 2>&1 || die "slurmd on $n did not start: $(tail -n 5 "$D/log/slurmd-$n.log" 2>/dev/null)"
}

idle_count() { sl sinfo -h -t idle -o %D 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

wait_idle() {
    local limit=${1:-30} t
    t=$(date +%s%N)
    while [ "$(idle_count)" != 2 ]; do
        if [ "$(ms "$t")" -gt $((limit * 1000)) ]; then
            sl sinfo -N -l >&2 || true
            tail -n 5 "$D"/log/*.log >&2 || true
            die "the nodes were not both idle after $limit s"
        fi
        sleep 0.1
    done
}

up() {
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
    for t in ip nsenter unshare munged mungekey slurmctld slurmd sinfo; do
        command -v "$t" >/dev/null || die "$t not found (apt-get install iproute2 util-linux munge slurmctld slurmd slurm-client)"
    done
    down
    mkdir -p "$D"
    rm -rf "$D"/munge "$D"/ctld "$D"/log "$D"/spool "$D"/tmp "$D"/slurm.conf
    mkdir -p "$D"/munge "$D"/ctld "$D"/log
    for n in $NODES; do mkdir -p "$D/spool/$n" "$D/tmp/$n"; done
    chmod 755 "$D"/munge      # munged wants its socket folder searchable by all
    local t t0
    t=$(date +%s%N); t0=$t
    mungekey --create --keyfile="$D/munge/munge.key" >/dev/null
    # --force: munged wants every folder above its socket searchable by all users (a pytest
    # tmp folder is 0700); here only root talks to it, so that check is a warning
    munged --force --socket="$D/munge/munge.socket" --key-file="$D/munge/munge.key" --pid-file="$D/munge/munged.pid" \
           --log-file="$D/munge/munged.log" --seed-file="$D/munge/munged.seed" </dev/null >/dev/null 2>&1 \
        || die "munged did not start: $(tail -n 3 "$D/munge/munged.log" 2>/dev/null)"
    echo "munge: $(ms "$t") ms"; t=$(date +%s%N)
    ip netns add "$P-sw"
    ip -n "$P-sw" link set lo up
    ip -n "$P-sw" link add br0 type bridge
    ip -n "$P-sw" link set br0 up
    for h in n1:1 n2:2 ctl:10; do
        local name=${h%%:*} k=${h##*:}
        local ns=$P-$name
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip -n "$ns" link add eth0 type veth peer name "p-$name" netns "$P-sw"
        ip -n "$P-sw" link set "p-$name" master br0
        ip -n "$P-sw" link set "p-$name" up
        ip -n "$ns" addr add "$SUBNET.$k/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
    echo "netns: $(ms "$t") ms"; t=$(date +%s%N)
    write_conf
    # slurmctld refuses to run unless the hostname is SlurmctldHost's (pitfall 4)
    nsenter --net="/run/netns/$P-ctl" unshare --uts sh -c 'hostname ctl; exec slurmctld -f "$1"' - "$D/slurm.conf" \
        </dev/null >/dev/null 2>&1 || die "slurmctld did not start: $(tail -n 5 "$D/log/slurmctld.log" 2>/dev/null)"
    for n in $NODES; do start_slurmd "$n"; done
    echo "daemons started: $(ms "$t") ms"; t=$(date +%s%N)
    wait_idle 30
    echo "nodes idle: $(ms "$t") ms; total up: $(ms "$t0") ms"
}

# a client command on the login node: clients must be on the cluster's subnet (pitfall 5)
sl() { nsenter --net="/run/netns/$P-ctl" env SLURM_CONF="$D/slurm.conf" "$@"; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    up) up ;;
    down) down ;;
    sl) [ -e "/run/netns/$P-ctl" ] || die "no cluster (run: slurm-cluster.sh up)"; sl "$@" ;;
    conf) echo "$D/slurm.conf" ;;
    slurmd-kill)
        node_ns "${1:-}" >/dev/null
        p=$(live_pid "$D/spool/slurmd-$1.pid" slurmd) || die "no slurmd running on $1"
        kill -KILL "$p" ;;
    slurmd-start) node_ns "${1:-}" >/dev/null; start_slurmd "$1" ;;
    cut) node_ns "${1:-}" >/dev/null; ip -n "$P-sw" link set "p-$1" down ;;
    mend) node_ns "${1:-}" >/dev/null; ip -n "$P-sw" link set "p-$1" up ;;
    pids) ip netns pids "$(node_ns "${1:-}")" ;;
    wait-idle) wait_idle "${1:-30}" ;;
    *) echo "usage: slurm-cluster.sh up | down | sl CMD... | conf | slurmd-kill NODE | slurmd-start NODE" \
            "| cut NODE | mend NODE | pids NODE | wait-idle [S]" >&2; exit 2 ;;
esac

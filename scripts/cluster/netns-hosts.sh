#!/bin/sh
# netns-hosts.sh - "hosts" for multi-host MPI tests on one machine: Linux
# network namespaces joined by a bridge, MPI traffic over real TCP between
# distinct addresses (recipe and measurements: shared/mpi-netns.md; how the
# tests use it: docs/hosts.md).
#
#   netns-hosts.sh up N        make hosts PREFIX-h1..PREFIX-hN (eth0 = SUBNET.k/24),
#                              joined by bridge br0 in namespace PREFIX-sw; idempotent
#                              (an earlier set of PREFIX hosts is taken down first)
#   netns-hosts.sh down        kill (by PID) every process left in a PREFIX host,
#                              wait until none is left, then delete the namespaces
#                              (veths and bridge go with them)
#   netns-hosts.sh mpirun ARGS mpirun started on host PREFIX-h1, remote daemons started
#                              through netns-agent (stands in for ssh); settings below
#   netns-hosts.sh cut K|mend K  take host K's switch port down / up ("pull the cable")
#   netns-hosts.sh pids K      PIDs of the processes in host K, one a line
#   netns-hosts.sh hostfile [SLOTS]  an Open MPI hostfile for the hosts that are up
#                              (SUBNET.k slots=SLOTS, default 1), on stdout
#
# Environment: HPL_NETNS_PREFIX (default hl; letters, digits, _), HPL_NETNS_SUBNET
# (default 10.77.0, the first three numbers of a /24).  Needs root and `ip netns`;
# nothing is added to the root namespace's network, /etc is not touched,
# hostfiles use IPs.  Only namespaces named exactly PREFIX-sw and PREFIX-hK are
# ever touched.
set -eu
PREFIX=${HPL_NETNS_PREFIX:-hl}
SUBNET=${HPL_NETNS_SUBNET:-10.77.0}
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "netns-hosts.sh: $*" >&2; exit 2; }
case "$PREFIX" in
    ''|*[!A-Za-z0-9_]*) die "HPL_NETNS_PREFIX must be letters, digits and _, got '$PREFIX'" ;;
esac
[ "${#PREFIX}" -le 32 ] || die "HPL_NETNS_PREFIX is longer than 32 characters: '$PREFIX'"
echo "$SUBNET" | grep -Eq '^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$' \
    || die "HPL_NETNS_SUBNET must be three numbers like 10.77.0 (a /24), got '$SUBNET'"
export HPL_NETNS_PREFIX="$PREFIX" HPL_NETNS_SUBNET="$SUBNET"

# The namespaces of this PREFIX: PREFIX-sw and PREFIX-h<number>, nothing else
# (another user's PREFIX-something, or a longer prefix, is never touched).
ours() {
    ip netns list 2>/dev/null | awk -v p="$PREFIX" '
        { n = $1; if (index(n, p "-") != 1) next; s = substr(n, length(p) + 2)
          if (s == "sw" || s ~ /^h[0-9]+$/) print n }'
}

host_number() {
    case "${1:-}" in ''|*[!0-9]*) die "$2: K must be a host number, got '${1:-}'" ;; esac
    [ -e "/run/netns/$PREFIX-h$1" ] || die "$2: no host $PREFIX-h$1 (netns-hosts.sh up N first)"
}

down() {
    rc=0
    for ns in $(ours); do
        # Kill by PID until none is left: a process may fork while we kill, and a
        # namespace deleted while a process still runs in it lives on unnamed,
        # where `ip netns pids` can no longer find that process.
        tries=0
        while pids=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$pids" ]; do
            for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
            tries=$((tries + 1))
            if [ "$tries" -gt 100 ]; then   # ~5 s: a process in uninterruptible sleep
                echo "netns-hosts.sh down: processes still in $ns after SIGKILL: $(echo $pids)" >&2
                rc=1
                break
            fi
            sleep 0.05
        done
        ip netns del "$ns" || rc=1
    done
    return $rc
}

up() {
    n=$1
    case "$n" in ''|0|*[!0-9]*) die "up: N must be a number of hosts >= 1, got '$n'" ;; esac
    [ "$n" -le 250 ] || die "up: at most 250 hosts in a /24, got $n"
    down
    ip netns add "$PREFIX-sw"
    ip -n "$PREFIX-sw" link set lo up
    ip -n "$PREFIX-sw" link add br0 type bridge
    ip -n "$PREFIX-sw" link set br0 up
    k=1
    while [ "$k" -le "$n" ]; do
        ns=$PREFIX-h$k
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # both veth ends made from inside the namespaces: nothing touches the root namespace
        ip -n "$ns" link add eth0 type veth peer name p$k netns "$PREFIX-sw"
        ip -n "$PREFIX-sw" link set p$k master br0
        ip -n "$PREFIX-sw" link set p$k up
        ip -n "$ns" addr add "$SUBNET.$k/24" dev eth0
        ip -n "$ns" link set eth0 up
        k=$((k + 1))
    done
}

hostfile() {
    slots=${1:-1}
    case "$slots" in ''|0|*[!0-9]*) die "hostfile: SLOTS must be a number >= 1, got '$slots'" ;; esac
    for ns in $(ours); do
        case "$ns" in "$PREFIX"-h*) echo "${ns##*-h}" ;; esac
    done | sort -n | while read -r k; do echo "$SUBNET.$k slots=$slots"; done
}

mend() {
    ip -n "$PREFIX-sw" link set "p$1" up
    # Forget what the cut taught the neighbour caches: host K's ARP entries
    # for the others are left INCOMPLETE/FAILED by traffic during the cut, and
    # the first connect() after the mend then fails at once ("unable to
    # complete a TCP connection", seen when a job was started right after).
    ip -n "$PREFIX-h$1" neigh flush dev eth0
    for ns in $(ours); do
        case "$ns" in "$PREFIX-h$1"|"$PREFIX-sw") ;; *) ip -n "$ns" neigh flush to "$SUBNET.$1" ;; esac
    done
}

mpirun_on_h1() {
    [ -e "/run/netns/$PREFIX-h1" ] || die "mpirun: no host $PREFIX-h1 (netns-hosts.sh up N first)"
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_plm_rsh_agent="$HERE/netns-agent"
    export OMPI_MCA_btl="${HPL_NETNS_BTL:-tcp,self}"
    export OMPI_MCA_btl_tcp_if_include="$SUBNET.0/24" OMPI_MCA_oob_tcp_if_include="$SUBNET.0/24"
    # every "host" shares this machine's cores: no pinning, no busy polling (mpi-netns.md pitfall 1)
    export OMPI_MCA_hwloc_base_binding_policy=none OMPI_MCA_mpi_yield_when_idle=1
    # notice a lost host in ~10 s instead of ~15 min (pitfall 2); the remote
    # orteds get these too: the agent passes mpirun's environment on
    export OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 OMPI_MCA_oob_tcp_keepalive_probes=3
    exec ip netns exec "$PREFIX-h1" unshare --uts sh -c 'hostname "$1"; shift; exec mpirun "$@"' netns-hosts "$PREFIX-h1" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    up) up "${1:-2}" ;;
    down) down ;;
    mpirun) mpirun_on_h1 "$@" ;;
    cut) host_number "${1:-}" cut; ip -n "$PREFIX-sw" link set "p$1" down ;;
    mend) host_number "${1:-}" mend; mend "$1" ;;
    pids) host_number "${1:-}" pids; ip netns pids "$PREFIX-h$1" ;;
    hostfile) hostfile "${1:-1}" ;;
    *) echo "usage: netns-hosts.sh up N | down | mpirun ARGS... | cut K | mend K | pids K | hostfile [SLOTS]" >&2; exit 2 ;;
esac

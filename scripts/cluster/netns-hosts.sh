#!/bin/sh
# netns-hosts.sh - "hosts" for multi-host MPI tests on one machine: Linux
# network namespaces joined by a bridge, MPI traffic over real TCP between
# distinct addresses (recipe and measurements: shared/mpi-netns.md).
#
#   netns-hosts.sh up N        make hosts PREFIX-h1..PREFIX-hN (eth0 = SUBNET.k/24),
#                              joined by bridge br0 in namespace PREFIX-sw; idempotent
#   netns-hosts.sh down        kill (by PID) every process left in a PREFIX-* namespace,
#                              then delete the namespaces (veths and bridge go with them)
#   netns-hosts.sh mpirun ARGS mpirun started on host PREFIX-h1, remote daemons started
#                              through netns-agent (stands in for ssh); settings below
#   netns-hosts.sh cut K|mend K  take host K's switch port down / up ("pull the cable")
#   netns-hosts.sh pids K      PIDs of the processes in host K
#
# Environment: HPL_NETNS_PREFIX (default hl), HPL_NETNS_SUBNET (default 10.77.0,
# a /24).  Needs root and `ip netns`; nothing is added to the root namespace's
# network, /etc is not touched, hostfiles use IPs.
set -eu
PREFIX=${HPL_NETNS_PREFIX:-hl}
SUBNET=${HPL_NETNS_SUBNET:-10.77.0}
HERE=$(cd "$(dirname "$0")" && pwd)
export HPL_NETNS_PREFIX="$PREFIX" HPL_NETNS_SUBNET="$SUBNET"

down() {
    for ns in $(ip netns list 2>/dev/null | awk -v p="^$PREFIX-" '$1 ~ p {print $1}'); do
        # several rounds: a process may fork while we kill
        for _ in 1 2 3; do
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        done
        ip netns del "$ns"
    done
}

up() {
    n=$1
    case "$n" in ''|*[!0-9]*) echo "netns-hosts.sh up: N must be a number of hosts, got '$n'" >&2; exit 2 ;; esac
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

mpirun_on_h1() {
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_plm_rsh_agent="$HERE/netns-agent"
    export OMPI_MCA_btl="${HPL_NETNS_BTL:-tcp,self}"
    export OMPI_MCA_btl_tcp_if_include="$SUBNET.0/24" OMPI_MCA_oob_tcp_if_include="$SUBNET.0/24"
    # every "host" shares this machine's cores: no pinning, no busy polling (mpi-netns.md pitfall 1)
    export OMPI_MCA_hwloc_base_binding_policy=none OMPI_MCA_mpi_yield_when_idle=1
    # notice a lost host in ~10 s instead of ~15 min (pitfall 2)
    export OMPI_MCA_oob_tcp_keepalive_time=5 OMPI_MCA_oob_tcp_keepalive_intvl=2 OMPI_MCA_oob_tcp_keepalive_probes=3
    exec ip netns exec "$PREFIX-h1" unshare --uts sh -c 'hostname "$1"; shift; exec mpirun "$@"' netns-hosts "$PREFIX-h1" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    up) up "${1:-2}" ;;
    down) down ;;
    mpirun) mpirun_on_h1 "$@" ;;
    cut) ip -n "$PREFIX-sw" link set "p$1" down ;;
    mend) ip -n "$PREFIX-sw" link set "p$1" up ;;
    pids) ip netns pids "$PREFIX-h$1" ;;
    *) echo "usage: netns-hosts.sh up N | down | mpirun ARGS... | cut K | mend K | pids K" >&2; exit 2 ;;
esac

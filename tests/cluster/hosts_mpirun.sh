#!/bin/sh
# hosts_mpirun.sh MPIRUN-ARGS... - an `mpirun` that launches across the test
# hosts: what HPCLADDER_MPIRUN points at when `hpcladder run` is tested on
# them.  Needs HPL_NETNS_PREFIX, HPL_NETNS_SUBNET (which hosts) and
# HOSTS_HOSTFILE (an Open MPI hostfile of their addresses) in the environment.
: "${HOSTS_HOSTFILE:?hosts_mpirun.sh: set HOSTS_HOSTFILE to a hostfile}"
exec "$(dirname "$0")/../../scripts/cluster/netns-hosts.sh" mpirun --hostfile "$HOSTS_HOSTFILE" "$@"

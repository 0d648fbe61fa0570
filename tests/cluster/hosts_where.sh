#!/bin/sh
# hosts_where.sh DIR PROGRAM ARGS... - run as an MPI rank: note where this rank
# runs, then become PROGRAM (same PID).  Writes DIR/rank-R with one line
#   R HOSTNAME NETNS PID
# (R from Open MPI's OMPI_COMM_WORLD_RANK, or PMI_RANK / PMIX_RANK; NETNS as
# `ip netns identify` finds it, '-' in the root namespace).
dir=$1; shift
rank=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-${PMIX_RANK:-unknown}}}
ns=$(ip netns identify $$ 2>/dev/null)
echo "$rank $(hostname) ${ns:--} $$" > "$dir/rank-$rank"
exec "$@"

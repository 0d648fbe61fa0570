"""Fixtures of the cluster tests (tests/cluster): hosts made of Linux network
namespaces (scripts/cluster/netns-hosts.sh), always taken down again.

  netns_hosts(n)   -> hosts_lib.NetnsHosts with hosts up; skips (with the
                      reason) where namespaces cannot be made: not root, no
                      `ip`/`unshare`, `ip netns add` refused.  Each n gets its
                      own prefix and subnet, PREFIXn and NET.n (PREFIX from
                      $HPCLADDER_TEST_NETNS_PREFIX, default hpt; NET from
                      $HPCLADDER_TEST_NETNS_NET, default 10.76), so two sets
                      can be up at once and never meet another user's.
                      Taken down (processes killed by PID, namespaces deleted)
                      at the end of the session, also when a test fails, and
                      at interpreter exit as a last resort.
  mpirun_path      -> path of mpirun, or skip.
"""
from __future__ import annotations

import atexit
import os
import shutil

import pytest

import hosts_lib

PREFIX = os.environ.get("HPCLADDER_TEST_NETNS_PREFIX", "hpt")
NET = os.environ.get("HPCLADDER_TEST_NETNS_NET", "10.76")

_up: dict[int, hosts_lib.NetnsHosts] = {}


def _down_all() -> None:
    errors = []
    for n, hosts in list(_up.items()):
        try:
            hosts.down()
        except Exception as e:          # keep taking the others down
            errors.append(str(e))
        _up.pop(n, None)
    if errors:
        raise RuntimeError("; ".join(errors))


atexit.register(_down_all)


@pytest.fixture(scope="session")
def netns_hosts(request):
    why = hosts_lib.netns_unavailable(f"{PREFIX}-probe")
    if why:
        pytest.skip(why)
    request.addfinalizer(_down_all)

    def make(n: int) -> hosts_lib.NetnsHosts:
        if n not in _up:
            hosts = hosts_lib.NetnsHosts(n, f"{PREFIX}{n}", f"{NET}.{n}")
            _up[n] = hosts          # registered before `up`: a half-made set is taken down too
            hosts.up()
        return _up[n]

    return make


@pytest.fixture(scope="session")
def mpirun_path():
    p = shutil.which("mpirun")
    if p is None:
        pytest.skip("mpirun not found (apt-get install openmpi-bin libopenmpi-dev)")
    return p

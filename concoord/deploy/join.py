"""Deciding that a node started over SSH has joined: the instance itself must list it in its
view (an exit status only says that the shell forked). A node that exits is caught early."""

import time

from concoord.client.status import replica_status
from concoord.deploy.nodes import is_running
from concoord.errors import ConnectionError

POLL_INTERVAL = 0.2
ALIVE_CHECK_INTERVAL = 1.0


class NodeFailed(Exception):
    """The node exited or did not join in time; the message says which."""


def current_view(members, timeout=2.0):
    """The ReplicaView of the first replica among ``members`` that answers, else None."""
    try:
        return replica_status(members, timeout)[1]
    except ConnectionError:
        return None


def is_listed(view, node):
    return view is not None and node.address in view.members(node.role)


def wait_joined(node, members, timeout):
    """Return once a replica among ``members`` lists ``node``; NodeFailed otherwise.

    For the bootstrap replica ``members`` is the node itself: it is in when it answers.
    """
    deadline = time.monotonic() + timeout
    next_alive_check = time.monotonic() + ALIVE_CHECK_INTERVAL
    while True:
        if is_listed(current_view(members), node):
            return
        now = time.monotonic()
        if now >= next_alive_check:
            if not is_running(node):
                raise NodeFailed("it exited")
            next_alive_check = now + ALIVE_CHECK_INTERVAL
        if now >= deadline:
            raise NodeFailed(f"it is not in the instance's view after {timeout:g} s")
        time.sleep(POLL_INTERVAL)

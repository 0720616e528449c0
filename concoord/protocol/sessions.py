"""Client sessions: which clients are alive, as the leader sees it.

A client opens a session through the log (``@session``, with its lease) and then proves it is
alive with keepalives that only the leader reads. When a session's lease runs out the leader
proposes ``@expire`` through the log, so every replica releases what the client held at the same
point in the log. A new leader gives every open session a full lease from its takeover.
"""


class SessionTracker:
    def __init__(self):
        self._deadline = {}     # client id -> time after which it is presumed dead
        self._lease = {}        # client id -> lease length in seconds

    def open(self, client_id, lease, now):
        self._lease[client_id] = lease
        self._deadline[client_id] = now + lease

    def touch(self, client_id, now):
        lease = self._lease.get(client_id)
        if lease is not None:
            self._deadline[client_id] = now + lease

    def close(self, client_id):
        self._lease.pop(client_id, None)
        self._deadline.pop(client_id, None)

    def restart(self, sessions, now):
        """On becoming leader: every open session (replicated) gets a full lease from now."""
        self._lease = dict(sessions)
        self._deadline = {client: now + lease for client, lease in sessions.items()}

    def expired(self, now):
        """Sessions whose lease ran out; each is reported once (until touched or reopened)."""
        dead = [client for client, deadline in self._deadline.items() if now > deadline]
        for client in dead:
            del self._deadline[client]
        return dead

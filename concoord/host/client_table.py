"""Exactly-once execution: the reply to every recent (client id, command number).

This table is part of the replicated state: every replica updates it in slot order, so all of
them agree on which commands ran. A retried command gets its stored reply instead of running
again. Each client's oldest replies are dropped beyond KEEP; a command numbered at or below the
dropped floor is refused as stale rather than risk running twice.

A client silent for IDLE_FORGET seconds of the replicated clock (the leader's stamps on the
slots) is forgotten altogether, so that client ids nobody uses any more (a proxy per request,
or ids made up by an attacker) do not grow the state forever. That is safe because a client
never resends a command more than concoord.client.engine.RESEND_HORIZON after it first sent it,
far less than IDLE_FORGET: a forgotten client can only send new commands. A client that ever
had a call parked is never forgotten by age (it may wait, and resend, indefinitely); its
session's expiry forgets it.
"""

import heapq
from collections import OrderedDict

from concoord.wire.messages import BLOCKED

KEEP = 1024
IDLE_FORGET = 3600.0


class ClientTable:
    def __init__(self):
        self._replies = {}   # client id -> {number: (status, value)}
        self._numbers = {}   # client id -> heap of the numbers in _replies (oldest first)
        self._floor = {}     # client id -> highest number whose reply was dropped
        self._last_used = OrderedDict()   # client id -> stamp of its last command, oldest first
        self._pinned = set()  # clients that had a call parked: never forgotten by age
        self._clock = 0.0     # the latest stamp seen: stamps only go forward here (a new
                              # leader's clock may be a little behind the last one's)

    def __len__(self):
        return len(self._replies)

    def lookup(self, client_id, number):
        """('new', None) | ('done', (status, value)) | ('stale', None)."""
        if number <= self._floor.get(client_id, 0):
            return "stale", None
        reply = self._replies.get(client_id, {}).get(number)
        return ("done", reply) if reply is not None else ("new", None)

    def record(self, client_id, number, reply, stamp):
        """The reply of a command that ran at the replicated time ``stamp``."""
        replies = self._replies.setdefault(client_id, {})
        assert number not in replies, "a command is executed at most once"
        replies[number] = reply
        numbers = self._numbers.setdefault(client_id, [])
        heapq.heappush(numbers, number)     # not min(replies): that is O(KEEP) per command
        if len(replies) > KEEP:
            oldest = heapq.heappop(numbers)
            del replies[oldest]
            self._floor[client_id] = max(self._floor.get(client_id, 0), oldest)
        if reply[0] == BLOCKED:
            self._pinned.add(client_id)
            self._last_used.pop(client_id, None)
        elif client_id not in self._pinned:
            self._clock = max(self._clock, stamp)
            self._last_used[client_id] = self._clock
            self._last_used.move_to_end(client_id)

    def complete(self, client_id, number, reply):
        """Replace a parked call's provisional reply by its final one (see concoord.blocking)."""
        replies = self._replies.get(client_id)
        if replies is not None and number in replies:
            replies[number] = reply

    def forget_idle(self, now):
        """Forget the clients silent since ``now - IDLE_FORGET`` (replicated time)."""
        while self._last_used:
            client_id, last = next(iter(self._last_used.items()))
            if now - last < IDLE_FORGET:
                return
            self.forget_client(client_id)

    def forget_client(self, client_id):
        self._replies.pop(client_id, None)
        self._numbers.pop(client_id, None)
        self._floor.pop(client_id, None)
        self._last_used.pop(client_id, None)
        self._pinned.discard(client_id)

    def to_plain(self):
        """{client id: [floor, [[number, status, value]...], last used (None if pinned)]}."""
        return {cid: [self._floor.get(cid, 0), [[n, s, v] for n, (s, v) in sorted(r.items())],
                      self._last_used.get(cid)]
                for cid, r in self._replies.items()}

    @classmethod
    def from_plain(cls, plain):
        """The table to_plain() described. Tables written before clients aged out have no
        last-use stamp: their clients are kept until a session expiry forgets them."""
        table = cls()
        used = []
        for cid, entry in plain.items():
            floor, replies = entry[0], entry[1]
            table._floor[cid] = floor
            table._replies[cid] = {n: (s, v) for n, s, v in replies}
            table._numbers[cid] = sorted(table._replies[cid])    # a sorted list is a heap
            last_used = entry[2] if len(entry) > 2 else None
            if last_used is None:
                table._pinned.add(cid)
            else:
                used.append((last_used, cid))
        # Stamps went forward as clients were used, so their order is the order of use (and
        # clients used at one stamp are forgotten together: their order among them is moot).
        for last_used, cid in sorted(used):
            table._last_used[cid] = last_used
        table._clock = max([0.0] + [last for last, _ in used])
        return table

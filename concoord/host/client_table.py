"""Exactly-once execution: the reply to every recent (client id, command number).

This table is part of the replicated state: every replica updates it in slot order, so all of
them agree on which commands ran. A retried command gets its stored reply instead of running
again. Each client's oldest replies are dropped beyond KEEP; a command numbered at or below the
dropped floor is refused as stale rather than risk running twice.
"""

import heapq

KEEP = 1024


class ClientTable:
    def __init__(self):
        self._replies = {}   # client id -> {number: (status, value)}
        self._numbers = {}   # client id -> heap of the numbers in _replies (oldest first)
        self._floor = {}     # client id -> highest number whose reply was dropped

    def lookup(self, client_id, number):
        """('new', None) | ('done', (status, value)) | ('stale', None)."""
        if number <= self._floor.get(client_id, 0):
            return "stale", None
        reply = self._replies.get(client_id, {}).get(number)
        return ("done", reply) if reply is not None else ("new", None)

    def record(self, client_id, number, reply):
        replies = self._replies.setdefault(client_id, {})
        assert number not in replies, "a command is executed at most once"
        replies[number] = reply
        numbers = self._numbers.setdefault(client_id, [])
        heapq.heappush(numbers, number)     # not min(replies): that is O(KEEP) per command
        if len(replies) > KEEP:
            oldest = heapq.heappop(numbers)
            del replies[oldest]
            self._floor[client_id] = max(self._floor.get(client_id, 0), oldest)

    def complete(self, client_id, number, reply):
        """Replace a parked call's provisional reply by its final one (see concoord.blocking)."""
        replies = self._replies.get(client_id)
        if replies is not None and number in replies:
            replies[number] = reply

    def forget_client(self, client_id):
        self._replies.pop(client_id, None)
        self._numbers.pop(client_id, None)
        self._floor.pop(client_id, None)

    def to_plain(self):
        return {cid: [self._floor.get(cid, 0), [[n, s, v] for n, (s, v) in sorted(r.items())]]
                for cid, r in self._replies.items()}

    @classmethod
    def from_plain(cls, plain):
        table = cls()
        for cid, (floor, replies) in plain.items():
            table._floor[cid] = floor
            table._replies[cid] = {n: (s, v) for n, s, v in replies}
            table._numbers[cid] = sorted(table._replies[cid])    # a sorted list is a heap
        return table

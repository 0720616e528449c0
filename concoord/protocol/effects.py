"""What a protocol handler asks its driver to do, in order: persist, then send, then reply.

The driver (the runtime or the simulator) must make ``persist`` records durable before any of
``sends`` leave, because an acceptor's promise is only a promise once it survives a crash.
"""


class Effects:
    __slots__ = ("sends", "persist", "replies")

    def __init__(self):
        self.sends = []     # (destination node id, message)
        self.persist = []   # acceptor records, opaque to the driver
        self.replies = []   # ClientReply messages, delivered to reply.client_id if connected here

    def send(self, dest, msg):
        self.sends.append((dest, msg))

    def broadcast(self, dests, msg):
        for dest in dests:
            self.sends.append((dest, msg))

    def extend(self, other):
        self.sends.extend(other.sends)
        self.persist.extend(other.persist)
        self.replies.extend(other.replies)
        return self

    def __bool__(self):
        return bool(self.sends or self.persist or self.replies)

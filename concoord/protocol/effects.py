"""What a protocol handler asks its driver to do, in order: persist, then send, then reply.

The driver (the runtime or the simulator) must make ``persist`` records durable before any of
``sends`` or ``replies`` leave, because an acceptor's promise is only a promise once it survives
a crash (and a bootstrap replica's initial configuration only fixed once it does).

A replica's handlers also hand over what the host must apply (concoord.host.HostedReplica does,
before the node's next input): ``committed`` slots in order, then the lease ``reads`` that became
ready (they must see every slot committed before them), and the ``watches`` to register at this
leader. Their replies join ``replies``.
"""


class Effects:
    __slots__ = ("sends", "persist", "replies", "committed", "reads", "watches")

    def __init__(self):
        self.sends = []      # (destination node id, message)
        self.persist = []    # records to make durable first (an acceptor's; a replica's genesis)
        self.replies = []    # ClientReply messages, delivered to reply.client_id if connected here
        self.committed = []  # learner.Committed: decided slots for the host to apply, in order
        self.reads = []      # (command, clock stamp): lease reads for the host to answer
        self.watches = []    # (command, clock stamp): @watch/@unwatch for the host at the leader

    def send(self, dest, msg):
        self.sends.append((dest, msg))

    def broadcast(self, dests, msg):
        for dest in dests:
            self.sends.append((dest, msg))

    def extend(self, other):
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))
        return self

    def __bool__(self):
        return any(getattr(self, name) for name in self.__slots__)

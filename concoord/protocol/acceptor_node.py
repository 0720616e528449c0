"""An acceptor node: the Acceptor behind the same handle/tick interface as ReplicaNode."""

from concoord.protocol.acceptor import Acceptor


class AcceptorNode(Acceptor):
    def status(self):
        return {"node": self.node_id, "role": "acceptor", "promised": list(self.promised),
                "accepted_slots": len(self.accepted), "gc_below": self.gc_below}

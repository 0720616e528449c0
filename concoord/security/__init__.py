"""Who may talk to a ConCoord node: shared-secret authentication, TLS, and the process-wide
settings every connection (node to node, client to node, status probes) is made with."""

from concoord.security.settings import NODE, CLIENT, Security, configure, current

__all__ = ["NODE", "CLIENT", "Security", "configure", "current"]

"""Applying: what a replica does with the slots the protocol (concoord.protocol) decided.

concoord.protocol agrees on an order of commands and hands each decided slot over
(Effects.committed); this package applies them to the user's object, each client command exactly
once, and answers lease reads and watches. It never decides anything: every replica applies the
same slots in the same order and must compute the same replies.

- hosted_replica.py  HostedReplica: a protocol ReplicaNode and its Applier, composed; what the
                     runtime and the simulator drive (handle/tick -> Effects)
- applier.py         Applier: applies committed slots; the client table; parked-call wake-ups
- client_table.py    exactly-once: the reply to every recent (client id, command number)
- state_machine.py   the contract between the Applier and what it applies to (typing.Protocol)
- object_host.py     ObjectHost: that contract for a user's class (the daemons run this one)
- watches.py         watched read-only methods, re-evaluated after every command at the leader
- snapshot.py        a replica's whole state (protocol part and host part) as bytes
"""

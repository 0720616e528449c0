"""The contract between the Applier (concoord.host.applier) and what it applies decisions to.

The Applier calls these methods, in slot order, identically on every replica; an
implementation must be deterministic: the same calls in the same order give the same replies
and the same state everywhere. concoord.host.object_host.ObjectHost is the one the daemons
run (a user's object); tests.sim.model.AppendLog is the simulator's.
"""

from typing import Iterable, Optional, Protocol, Tuple, runtime_checkable

from concoord.wire.types import Command

# (status, encoded value): a ClientReply's status (OK, EXCEPTION, BLOCKED) and value bytes.
Reply = Tuple[int, bytes]


@runtime_checkable
class StateMachine(Protocol):
    def refusal(self, method: str) -> Optional[str]:
        """Why a client may not call ``method`` at all (checked before proposing), or None."""

    def is_readonly(self, method: str) -> bool:
        """True if ``method`` only reads: the leader may answer it from its read lease."""

    def execute(self, command: Command, slot: Optional[int], time: float) -> Reply:
        """Run one client command decided in ``slot`` (None for a lease read) with the
        leader's clock stamp ``time``; never raises (the object's exceptions are replies)."""

    def take_wakeups(self) -> Iterable[Tuple[str, int, Reply]]:
        """(client id, command number, final reply) of parked calls the last command woke."""

    def cancel(self, client_id: str, number: int, time: Optional[float] = None) -> None:
        """The client gave up waiting on its parked call ``number`` (through the log)."""

    def expire(self, client_id: str, time: Optional[float] = None) -> None:
        """The client's session expired (through the log): fail its parked calls and let the
        object release what it held."""

    def snapshot(self):
        """The whole state as plain values (msgpack-encodable), or None if it cannot say."""

    def restore(self, state) -> None:
        """Replace the whole state by one snapshot() returned (on any replica)."""

    def describe(self) -> str:
        """A short human-readable description (str() of the object), for status."""

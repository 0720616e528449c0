"""Client commands waiting for a slot, and how many travel together.

New commands start a slot of their own only while fewer than ``depth`` slots of new commands
are in phase 2; otherwise they wait for one to be decided and share the next batch. Idle, a
command is proposed at once; busy, the per-slot cost (3 Accepts, 3 fsyncs, ...) is shared by
many commands.
"""

from collections import deque

from concoord.wire.types import Batch, command_bytes

BATCHING_DEPTH = 1
MAX_BATCH_COMMANDS = 1024
MAX_BATCH_BYTES = 1 << 20


class Batcher:
    def __init__(self, depth=BATCHING_DEPTH):
        self.depth = depth        # slots of new commands in phase 2 at once
        self.pending = deque()    # commands waiting for a slot
        self.in_flight = set()    # (client id, number) pending or proposed

    def add(self, command):
        """Queue a command; False if it is already pending or proposed (a client's retry)."""
        key = (command.client_id, command.number)
        if key in self.in_flight:
            return False
        self.in_flight.add(key)
        self.pending.append(command)
        return True

    def take(self, stamp, slots_in_phase2):
        """The next batch of waiting commands, or None: nothing waits, or the pipeline is
        as deep as allowed and the batch is not full yet."""
        if not self.pending:
            return None
        if slots_in_phase2 >= self.depth and len(self.pending) < MAX_BATCH_COMMANDS:
            return None
        commands, size = [], 0
        while self.pending and len(commands) < MAX_BATCH_COMMANDS:
            command_size = command_bytes(self.pending[0])
            if commands and size + command_size > MAX_BATCH_BYTES:
                break       # a large command goes alone: every batch fits in a frame
            commands.append(self.pending.popleft())
            size += command_size
        return Batch(stamp, tuple(commands))

    def applied(self, commands):
        for command in commands:
            self.in_flight.discard((command.client_id, command.number))

    def forget_proposed(self):
        """After a snapshot install: the slots it skipped were applied without applied()
        seeing them; kept in flight, their commands' retries would be dropped forever. Only the
        commands still waiting stay (one proposed twice runs once: the host's exactly-once)."""
        self.in_flight = {(c.client_id, c.number) for c in self.pending}

    def clear(self):
        self.pending.clear()
        self.in_flight.clear()

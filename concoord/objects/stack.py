"""A LIFO stack shared by processes.

``pop()`` and ``peek()`` on an empty stack raise IndexError, as ``list.pop()`` does (a builtin
type, so the client catches it as itself).
"""

from concoord import readonly
from concoord.objects._state import PlainState


class Stack(PlainState):
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise IndexError("pop from an empty stack")
        return self.items.pop()

    @readonly
    def peek(self):
        if not self.items:
            raise IndexError("peek at an empty stack")
        return self.items[-1]

    @readonly
    def size(self):
        return len(self.items)

    @readonly
    def empty(self):
        return not self.items

    @readonly
    def contents(self):
        """Every item, bottom first."""
        return list(self.items)

    def __str__(self):
        return f"Stack(size={len(self.items)}, top={self.items[-1]!r})" if self.items else \
            "Stack(size=0)"

"""A replicated dictionary, with compare-and-set for optimistic concurrency.

Keys must be hashable values (str, int, tuple...): a list as key raises TypeError. ``delete`` of
a missing key raises KeyError, as ``del d[key]`` does. ``compare_and_set(key, expected, new)``
stores ``new`` only if the current value equals ``expected`` and returns whether it did; a
missing key counts as None, so ``compare_and_set(key, None, value)`` creates a key only if
nobody else has. Keys keep their insertion order (never a set's: string hashing differs between
processes, so a set's order would differ between replicas).
"""

from concoord import readonly
from concoord.objects._state import PlainState


class Dictionary(PlainState):
    def __init__(self):
        self.data = {}

    @readonly
    def get(self, key, default=None):
        return self.data.get(key, default)

    def set(self, key, value):
        self.data[key] = value

    def delete(self, key):
        del self.data[key]

    def pop(self, key, *default):
        """Remove ``key`` and return its value; KeyError if it is missing and no default is
        given (``*default``: a sentinel default could not travel to the replicas)."""
        return self.data.pop(key, *default)

    def compare_and_set(self, key, expected, new):
        if self.data.get(key) != expected:
            return False
        self.data[key] = new
        return True

    @readonly
    def contains(self, key):
        return key in self.data

    @readonly
    def keys(self):
        return list(self.data)

    @readonly
    def values(self):
        return list(self.data.values())

    @readonly
    def items(self):
        return [(key, value) for key, value in self.data.items()]

    @readonly
    def size(self):
        return len(self.data)

    def clear(self):
        self.data.clear()

    def __str__(self):
        return f"Dictionary({self.data!r})"

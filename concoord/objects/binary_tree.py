"""An ordered set shared by processes: a balanced binary search tree (AVL, see _avl.py).

Keys must be comparable with each other (all numbers, or all strings...): a key that cannot be
compared with those in the tree raises TypeError and changes nothing. Like a set, ``add`` of a
present key changes nothing and ``remove`` of a missing key raises KeyError (``discard`` does
not); ``min``/``max`` of an empty tree raise ValueError.
"""

from concoord import readonly
from concoord.objects import _avl
from concoord.objects._state import PlainState


class BinaryTree(PlainState):
    def __init__(self):
        self.root = None
        self.count = 0

    def add(self, key):
        """Add ``key``; True if it was not in the tree yet."""
        self.root, added = _avl.insert(self.root, key)
        self.count += added
        return added

    def remove(self, key):
        if not self.discard(key):
            raise KeyError(key)

    def discard(self, key):
        """Remove ``key`` if present; True if it was."""
        self.root, removed = _avl.delete(self.root, key)
        self.count -= removed
        return removed

    @readonly
    def contains(self, key):
        return _avl.contains(self.root, key)

    @readonly
    def in_order(self):
        """Every key, smallest first."""
        return _avl.in_order(self.root)

    @readonly
    def size(self):
        return self.count

    @readonly
    def min(self):
        return _avl.extreme(self.root, _avl.LEFT)

    @readonly
    def max(self):
        return _avl.extreme(self.root, _avl.RIGHT)

    @readonly
    def height(self):
        return _avl.height(self.root)

    def __str__(self):
        return f"BinaryTree(size={self.count}, height={_avl.height(self.root)})"

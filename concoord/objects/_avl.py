"""AVL tree operations for BinaryTree: a binary search tree kept balanced, so that its depth
stays logarithmic (an unbalanced tree fed sorted keys would recurse as deep as it is long).

A node is a list ``[key, left, right, height]``; None is the empty tree. Lists keep the object's
state plain (it copies and pickles cheaply). Every function returns the new root of the subtree
it was given. Keys are compared before anything is changed, so a key that cannot be compared
with the others (TypeError) leaves the tree as it was.
"""

KEY, LEFT, RIGHT, HEIGHT = range(4)


def height(node):
    return node[HEIGHT] if node is not None else 0


def insert(node, key):
    """(new root, True) with ``key`` added, or (node, False) if it was there already."""
    if node is None:
        return [key, None, None, 1], True
    if key == node[KEY]:
        return node, False
    side = LEFT if key < node[KEY] else RIGHT
    child, added = insert(node[side], key)
    node[side] = child
    return (_rebalance(node) if added else node), added


def delete(node, key):
    """(new root, True) with ``key`` removed, or (node, False) if it was not there."""
    if node is None:
        return None, False
    if key == node[KEY]:
        if node[LEFT] is None or node[RIGHT] is None:
            return node[LEFT] if node[LEFT] is not None else node[RIGHT], True
        successor = node[RIGHT]
        while successor[LEFT] is not None:
            successor = successor[LEFT]
        node[KEY] = successor[KEY]
        node[RIGHT], _ = delete(node[RIGHT], successor[KEY])
        return _rebalance(node), True
    side = LEFT if key < node[KEY] else RIGHT
    child, removed = delete(node[side], key)
    node[side] = child
    return (_rebalance(node) if removed else node), removed


def contains(node, key):
    while node is not None:
        if key == node[KEY]:
            return True
        node = node[LEFT] if key < node[KEY] else node[RIGHT]
    return False


def in_order(node):
    """Every key in ascending order (iteratively: no recursion limit to meet)."""
    keys, pending = [], []
    while pending or node is not None:
        while node is not None:
            pending.append(node)
            node = node[LEFT]
        node = pending.pop()
        keys.append(node[KEY])
        node = node[RIGHT]
    return keys


def extreme(node, side):
    """The smallest (side=LEFT) or largest (side=RIGHT) key; ValueError if empty."""
    if node is None:
        raise ValueError("the tree is empty")
    while node[side] is not None:
        node = node[side]
    return node[KEY]


def _update(node):
    node[HEIGHT] = 1 + max(height(node[LEFT]), height(node[RIGHT]))
    return node


def _rotate(node, side):
    """Rotate so that the child on the other side of ``side`` becomes the root."""
    other = RIGHT if side == LEFT else LEFT
    root = node[other]
    node[other] = root[side]
    root[side] = _update(node)
    return _update(root)


def _rebalance(node):
    _update(node)
    balance = height(node[LEFT]) - height(node[RIGHT])
    if balance > 1:
        if height(node[LEFT][LEFT]) < height(node[LEFT][RIGHT]):
            node[LEFT] = _rotate(node[LEFT], LEFT)
        return _rotate(node, RIGHT)
    if balance < -1:
        if height(node[RIGHT][RIGHT]) < height(node[RIGHT][LEFT]):
            node[RIGHT] = _rotate(node[RIGHT], RIGHT)
        return _rotate(node, LEFT)
    return node

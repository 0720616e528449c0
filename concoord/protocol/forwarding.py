"""Attributes an object forwards to one of its parts: composition without a getter per field
(Leader forwards its election's state, HostedReplica its protocol node's fields)."""


def forwarded(part, name, settable=False):
    """A property that reads (and if ``settable``, sets) ``self.<part>.<name>``."""
    def get(self):
        return getattr(getattr(self, part), name)

    def set_(self, value):
        setattr(getattr(self, part), name, value)

    return property(get, set_ if settable else None)

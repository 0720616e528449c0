"""Files that survive power loss once written: the snapshot, genesis.json and node-id.

Writing to a temporary file, fsyncing it and renaming it over the old one makes the new
contents atomic, but not durable: the rename lives in the directory, and until the directory
itself is fsync'd a power loss may bring back the old file (or none). A replica reports its
snapshot's slot as durable and the acceptors then forget the slots before it, so "written"
must mean "on disk", directory entry included.
"""

import os


def write_durably(path, data):
    """Replace ``path`` by ``data`` (bytes or str), atomically and durably."""
    temporary = f"{path}.new"
    with open(temporary, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    fsync_directory(os.path.dirname(path))


def fsync_directory(directory):
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

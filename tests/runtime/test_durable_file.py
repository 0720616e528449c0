"""write_durably: the file's data and its directory entry are both fsync'd before it returns."""

import os

from concoord.runtime import durable_file
from concoord.runtime.durable_file import write_durably


def test_the_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    """Bug: the snapshot (and genesis.json, node-id) were renamed into place and reported
    durable without an fsync of the directory: after a power loss the rename could be gone
    while the acceptors had already forgotten the slots the snapshot held."""
    target = tmp_path / "snapshot"
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("rename", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(durable_file.os, "fsync", fsync)
    monkeypatch.setattr(durable_file.os, "replace", replace)
    write_durably(str(target), b"state")
    assert target.read_bytes() == b"state"
    assert events == [("fsync", str(target) + ".new"), ("rename", str(target)),
                      ("fsync", str(tmp_path))]

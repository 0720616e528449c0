"""The acceptor's log on disk: records survive, a torn tail is cut, damage before it is fatal."""

import os
import zlib

import pytest

from concoord.runtime.disk_log import FILE_NAME, HEADER, RESERVE, CorruptLogError, DiskLog
from concoord.wire.codec import encode_record
from concoord.wire.types import Ballot, Batch, Command, PValue

RECORDS = [("promise", Ballot(1, "r0", 0)),
           ("accept", PValue(Ballot(1, "r0", 0), 1, Batch(1.0, (Command("c", 1, "m", b""),)))),
           ("promise", Ballot(2, "r1", 0)),
           ("gc", 1)]


def written(tmp_path):
    disk = DiskLog(tmp_path)
    assert disk.load() == []
    disk.append(RECORDS[:2])
    disk.append(RECORDS[2:])
    disk.close()
    return tmp_path / FILE_NAME


def test_records_survive_a_restart(tmp_path):
    written(tmp_path)
    assert DiskLog(tmp_path).load() == RECORDS


@pytest.mark.parametrize("tail", [b"\x00\x00\x00", b"\x00\x00\x00\x10\x12\x34\x56\x78abc",
                                  b"\x00" * 4096])
def test_a_torn_tail_is_cut_and_the_file_truncated(tmp_path, tail):
    path = written(tmp_path)
    size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(tail)
    assert DiskLog(tmp_path).load() == RECORDS
    assert path.stat().st_size == size


def test_a_damaged_record_before_the_tail_stops_the_acceptor(tmp_path):
    """Bug: the first bad record anywhere cut the rest of the file with a warning, silently
    dropping promises that were fsync'd and answered."""
    path = written(tmp_path)
    data = bytearray(path.read_bytes())
    data[12] ^= 0xFF                      # inside the first record's body
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match="not at the end"):
        DiskLog(tmp_path).load()
    assert path.read_bytes() == bytes(data), "the damaged file must be left as it was"


def killed_after_appending(tmp_path):
    """A log whose process died after its appends: the file still holds the zeroed reserve."""
    disk = DiskLog(tmp_path)
    disk.load()
    disk.append(RECORDS[:2])
    disk.append(RECORDS[2:])
    path = tmp_path / FILE_NAME
    assert path.stat().st_size >= RESERVE, "the file is allocated ahead of its records"
    return disk, path


def test_a_log_left_with_its_reserve_loads_quietly_and_appends_after_its_records(tmp_path,
                                                                                 caplog):
    killed_after_appending(tmp_path)
    disk = DiskLog(tmp_path)
    assert disk.load() == RECORDS
    assert "dropping" not in caplog.text, "the reserve is not a torn record"
    disk.append(RECORDS[:1])
    disk.close()
    assert DiskLog(tmp_path).load() == RECORDS + RECORDS[:1]
    exact = sum(HEADER.size + len(encode_record(r)) for r in RECORDS + RECORDS[:1])
    assert (tmp_path / FILE_NAME).stat().st_size == exact, "a clean close cuts the reserve"


def test_a_torn_record_followed_by_the_reserve_is_cut_not_refused(tmp_path, caplog):
    """A crash in the middle of an append leaves part of a record and then the reserve's
    zeros: that is a torn tail (never synced, never answered), not damage."""
    disk, path = killed_after_appending(tmp_path)
    body = encode_record(RECORDS[1])
    os.pwrite(disk._fd, HEADER.pack(len(body), zlib.crc32(body)) + body[:len(body) // 2],
              disk._end)
    assert DiskLog(tmp_path).load() == RECORDS
    assert "dropping" in caplog.text


def test_damage_before_the_last_record_is_refused_with_the_reserve_too(tmp_path):
    _, path = killed_after_appending(tmp_path)
    data = bytearray(path.read_bytes())
    data[12] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match="not at the end"):
        DiskLog(tmp_path).load()


def test_a_rewrite_replaces_the_file_with_the_live_records(tmp_path):
    written(tmp_path)
    disk = DiskLog(tmp_path)
    disk.load()
    disk.rewrite(RECORDS[2:])
    disk.append(RECORDS[:1])
    disk.close()
    assert DiskLog(tmp_path).load() == RECORDS[2:] + RECORDS[:1]
    assert not os.path.exists(tmp_path / (FILE_NAME + ".new"))


def test_an_acceptor_log_written_before_commands_named_threads_still_loads(tmp_path):
    """Wire version 2 added Command.thread; records written by version 1 hold 4-field
    commands, which load as thread 0 (an upgraded acceptor keeps its promises)."""
    import struct
    import zlib

    import msgpack
    body = msgpack.packb(["accept", [[1, "r0", 0], 1, [1.0, [["c", 1, "m", b""]]]]],
                         use_bin_type=True)
    (tmp_path / FILE_NAME).write_bytes(struct.pack(">II", len(body), zlib.crc32(body)) + body)
    (record,) = DiskLog(tmp_path).load()
    assert record == RECORDS[1]


# An acceptor's log as wire version 2 wrote it (before msgspec): promise, accept with a command
# of five fields, gc, and an accept of version 1 (a command of four fields, no thread).
VERSION_2_RECORDS = [bytes.fromhex(h) for h in (
    "92a770726f6d6973659303af3132372e302e302e313a313430303007",
    "92a6616363657074939303af3132372e302e302e313a3134303030070492cb3ff800000000000091"
    "95a2633102a9696e6372656d656e74c40392908001",
    "92a2676302",
    "92a6616363657074939303af3132372e302e302e313a3134303030070592cb400400000000000091"
    "94a2633001a16dc400",
)]


def test_a_log_written_by_wire_version_2_loads_after_the_upgrade(tmp_path):
    (tmp_path / "acceptor.log").write_bytes(b"".join(
        HEADER.pack(len(body), zlib.crc32(body)) + body for body in VERSION_2_RECORDS))
    ballot = Ballot(3, "127.0.0.1:14000", 7)
    expected = [("promise", ballot),
                ("accept", PValue(ballot, 4, Batch(1.5, (
                    Command("c1", 2, "increment", b"\x92\x90\x80", 1),)))),
                ("gc", 2),
                ("accept", PValue(ballot, 5, Batch(2.5, (Command("c0", 1, "m", b"", 0),))))]
    log = DiskLog(str(tmp_path))
    assert log.load() == expected
    log.close()
    # and what this version writes for them is the very same bytes
    assert [encode_record(r) for r in expected[:3]] == VERSION_2_RECORDS[:3]


def test_a_filesystem_without_fallocate_is_asked_once(tmp_path, monkeypatch):
    """Where posix_fallocate is not offered (EOPNOTSUPP), the log extends the file with each
    append (fdatasync makes the new size durable too) and stops asking: a failing syscall on
    every append was the cost of every write on such a filesystem."""
    import errno
    from concoord.runtime import disk_log
    calls = []

    def unsupported(fd, offset, length):
        calls.append(length)
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(disk_log.os, "posix_fallocate", unsupported)
    disk = DiskLog(tmp_path)
    disk.load()
    for record in RECORDS:
        disk.append([record])
    disk.close()
    assert len(calls) == 1
    assert DiskLog(tmp_path).load() == RECORDS


def test_a_full_disk_at_allocation_is_asked_again(tmp_path, monkeypatch):
    """ENOSPC from posix_fallocate is not "unsupported": the append goes on (its own write
    says whether the record fits), and the next one tries to allocate again."""
    import errno
    from concoord.runtime import disk_log
    calls = []
    real = os.posix_fallocate

    def full_once(fd, offset, length):
        calls.append(length)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, offset, length)

    monkeypatch.setattr(disk_log.os, "posix_fallocate", full_once)
    disk = DiskLog(tmp_path)
    disk.load()
    disk.append(RECORDS[:1])
    disk.append(RECORDS[1:])
    disk.close()
    assert len(calls) == 2
    assert DiskLog(tmp_path).load() == RECORDS

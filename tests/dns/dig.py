"""Running the real `dig` and reading its output: status, flags and the records of each section."""

import re
import shutil
import subprocess
from dataclasses import dataclass, field

DIG = shutil.which("dig")
SECTIONS = ("ANSWER", "AUTHORITY", "ADDITIONAL")


@dataclass
class Record:
    name: str
    ttl: int
    rdtype: str
    data: str


@dataclass
class DigResult:
    status: str = ""
    flags: set = field(default_factory=set)
    sections: dict = field(default_factory=lambda: {s: [] for s in SECTIONS})
    raw: str = ""

    def records(self, section="ANSWER", rdtype=None):
        return [r for r in self.sections[section] if rdtype is None or r.rdtype == rdtype]

    def data(self, section="ANSWER", rdtype=None):
        """The data of each record, in the order dig printed them."""
        return [r.data for r in self.records(section, rdtype)]

    def __str__(self):
        return self.raw


def dig(port, name, rdtype="A", *options, server="127.0.0.1", timeout=10):
    """``dig @server -p port name rdtype options...``; the parsed DigResult."""
    command = [DIG, f"@{server}", "-p", str(port), name, rdtype, "+time=2", "+tries=2",
               "+nocmd", "+nostats", *options]
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    return parse(out.stdout + out.stderr)


def parse(text):
    result = DigResult(raw=text)
    section = None
    for line in text.splitlines():
        header = re.search(r"status: (\w+)", line)
        if header:
            result.status = header.group(1)
        flags = re.match(r";; flags: ([^;]*);", line)
        if flags:
            result.flags = set(flags.group(1).split())
        titled = re.match(r";; (\w+) SECTION:", line)
        if titled:
            section = titled.group(1) if titled.group(1) in SECTIONS else None
            continue
        if not line.strip():
            section = None
        elif section and not line.startswith(";"):
            name, ttl, _cls, rdtype, data = line.split(None, 4)
            result.sections[section].append(Record(name, int(ttl), rdtype, data))
    return result

"""Without msgspec (the zipapp bundles) the wire is the same: the pure-Python codec writes the
very bytes msgspec writes, and reads what msgspec writes, so both kinds of node talk."""

import json
import os
import subprocess
import sys

import pytest

from concoord.wire import codec
from tests.fuzz import targets

SCRIPT = """
import json, sys
from concoord.wire import codec
from tests.fuzz import targets
assert codec.msgspec is None
corpus = targets.wire_corpus()
for data in [bytes.fromhex(h) for h in json.load(sys.stdin)] + corpus:
    targets.wire(data)          # decodes (or refuses) and round-trips, as with msgspec
json.dump([data.hex() for data in corpus], sys.stdout)
"""


def test_the_pure_python_codec_writes_and_reads_what_msgspec_does():
    if os.environ.get("CONCOORD_WIRE_PURE"):
        pytest.skip("this whole run is on the pure-Python path")
    assert codec.msgspec is not None, "msgspec is installed (setup.py) where tests run"
    corpus = targets.wire_corpus()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", SCRIPT], input=json.dumps(
        [data.hex() for data in corpus]), capture_output=True, text=True, cwd=root,
        env={**os.environ, "CONCOORD_WIRE_PURE": "1"}, timeout=120, check=True)
    assert [bytes.fromhex(h) for h in json.loads(out.stdout)] == corpus

"""README section 11 ("Code by folder") names every package under concoord/ and every
top-level module, and nothing that is not there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def section(title):
    text = (ROOT / "README").read_text()
    start = text.index(title)
    following = re.search(r"\n\d+\. ", text[start + len(title):])
    return text[start:start + len(title) + following.start()] if following else text[start:]


def test_the_code_by_folder_section_matches_the_tree():
    listed = section("11. Code by folder")
    named = set(re.findall(r"^    concoord/(\w+)/", listed, re.MULTILINE))
    packages = {p.parent.name for p in (ROOT / "concoord").glob("*/__init__.py")}
    assert named == packages
    modules = {p.name for p in (ROOT / "concoord").glob("*.py")} - {"__init__.py", "__main__.py"}
    top_level = listed[listed.index("concoord/*.py"):]
    assert set(re.findall(r"\b(\w+\.py)\b", top_level)) == modules

"""``world``: a World (world.py) in the mode a test is parametrized with (EVERY_MODE, or
SHARED for scenarios of one actor, where threads and processes make no difference)."""

import pytest

from tests.objects.conformance.world import MODES, World

EVERY_MODE = pytest.mark.parametrize("world", MODES, indirect=True)
SHARED = pytest.mark.parametrize("world", ["shared"], indirect=True)


@pytest.fixture
def world(request, object_cluster):
    return World(request.param, object_cluster)

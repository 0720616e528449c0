"""The integration harness (real `concoord` processes), and the process-wide security settings
of the test process reset after every test."""

import pytest

from concoord import security
from tests.integration.conftest import (counter_harness, harness,  # noqa: F401 - fixtures
                                        pytest_runtest_makereport)


@pytest.fixture(autouse=True)
def reset_security():
    yield
    security.configure(None)

"""The integration harness (real `concoord` processes) for the operations tests."""

from tests.integration.conftest import (  # noqa: F401 - fixtures and the log-report hook
    counter_harness, harness, pytest_runtest_makereport)

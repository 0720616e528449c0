"""The one error type of deployment: a sentence that names the host and says what went wrong."""

from concoord.errors import ConcoordError


class DeployError(ConcoordError):
    """Deploying failed; ``str()`` is the whole message, already naming the host involved."""


def host_error(host, reason):
    """A DeployError whose message starts with the host (``root@10.0.0.1:22: reason``)."""
    return DeployError(f"{host}: {reason}")

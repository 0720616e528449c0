"""The `concoord` subcommands of this package (wired into cli.py by add_commands)."""


def add_commands(commands):
    """Add this package's subparsers to `commands` (argparse subparsers); each sets run=FUNC."""

"""argparse types shared by the `concoord` subcommands: one clear line for a bad value."""

import argparse
import math


def positive_int(text):
    return _positive(text, int, "a whole number")


def positive_seconds(text):
    return _positive(text, float, "a number of seconds")


def _positive(text, kind, what):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not value > 0 or (kind is float and not math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value

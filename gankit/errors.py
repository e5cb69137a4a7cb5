"""The exception every user-facing gankit error derives from.

The CLI prints these as one line and exits with status 2; tracebacks are kept for bugs."""


class GankitError(Exception):
    """A problem with the user's input (config, data, files, device) that they can fix."""

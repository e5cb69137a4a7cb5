"""The exception every user-facing gankit error derives from.

The CLI prints these as one line and exits with status 2; tracebacks are kept for bugs."""


class GankitError(Exception):
    """A problem with the user's input (config, data, files, device) that they can fix."""


_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


class ConfigError(GankitError, ValueError):
    """A configuration that cannot be run; the message (always one line) names the key."""

    def __init__(self, message: object = "") -> None:
        # user input quoted in a message (a key, a value) must not break it into lines
        super().__init__(str(message).translate(_LINE_BREAKS))

"""What every command line shares at its exit: a reader that goes away (``| head``) ends it quietly."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

# What a shell reports for a program killed by SIGPIPE (128 + 13), as `yes | head` gives under `set -o pipefail`:
# the output was cut short, which a 0 would hide (a batch stopped after its first answer did not succeed).
EXIT_BROKEN_PIPE = 141


def run(main: Callable[[], int]) -> NoReturn:
    """Exit with ``main()``'s status; if stdout's (or stderr's) reader closed the pipe, stop and exit 141.

    Python ignores SIGPIPE, so a write to a closed pipe raises BrokenPipeError wherever it happens; without this the
    user sees a traceback, then a second error when the interpreter flushes stdout on the way out.
    """
    try:
        status = main()
        sys.stdout.flush()  # buffered output is written here, inside the handler, not at interpreter exit
    except BrokenPipeError:
        _silence()
        status = EXIT_BROKEN_PIPE
    sys.exit(status)


def _silence() -> None:
    """Point stdout and stderr at /dev/null, so the interpreter's final flush has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):  # a replaced or closed stream: nothing left to flush into
            pass
    os.close(devnull)

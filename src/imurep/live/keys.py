"""Single key presses from the terminal during a live session (``n`` new set, ``s`` switch side,
``q`` quit)."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class TerminalKeys:
    """Single key presses from a terminal, without blocking (no-op when stdin is not a TTY)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdin
        self._saved: Any = None
        self.active = False

    def __enter__(self) -> TerminalKeys:
        try:
            if self._stream.isatty():
                import termios
                import tty

                fd = self._stream.fileno()
                self._saved = termios.tcgetattr(fd)
                tty.setcbreak(fd)
                self.active = True
        except (OSError, ValueError, ImportError):  # no terminal control here: keys off
            self.active = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

    def poll(self) -> str | None:
        """The next pressed key, or None."""
        if not self.active:
            return None
        import select

        ready, _, _ = select.select([self._stream], [], [], 0)
        if not ready:
            return None
        ch = os.read(self._stream.fileno(), 1)
        return ch.decode(errors="ignore").lower() or None

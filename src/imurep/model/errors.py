"""Exception hierarchy of imurep.

Every error a user can cause derives from :class:`ImurepError`; the CLI maps these to one line on
stderr and exit code 2.  Messages say what was expected, what came, and how to fix it.
"""

from __future__ import annotations


class ImurepError(Exception):
    """Base class of every error imurep raises on purpose."""


class SettingsError(ImurepError, ValueError):
    """A settings value is out of its documented range."""


class DataValidationError(ImurepError, ValueError):
    """Input data (a file, a chunk, a stream) does not meet the documented contract.

    Parameters
    ----------
    message
        What was expected, what came and how to fix it.
    path
        The file concerned, when known.
    row, column
        1-based data row and column name, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.row = row
        self.column = column
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        # always one line, whatever the file's text put into the message
        super().__init__(" ".join((prefix + message).split()))


class RecordingError(ImurepError):
    """A recording could not be written completely (disk full…); the message says what was saved."""


class HistoryError(DataValidationError):
    """The training-history database cannot be opened, read or written; the message names it."""


class ProtocolError(ImurepError):
    """A sensor frame could not be decoded."""

    def __init__(self, packet: bytes, reason: str) -> None:
        self.packet = bytes(packet)
        self.reason = reason
        super().__init__(f"bad sensor frame ({len(self.packet)} bytes): {reason}")


class SensorNotFoundError(ImurepError):
    """No sensor matching the request was found."""


class ConnectionLostError(ImurepError):
    """The link to the sensor was lost and could not be re-established."""

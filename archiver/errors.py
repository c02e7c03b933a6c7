"""The exception tree. Each docstring says what happened and what the user can do.

The CLI turns an ``ArchiverError`` into one line on stderr and its ``exit_code``;
anything else escaping is a bug.
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class: something the user can act on."""

    exit_code = 1


class UsageError(ArchiverError):
    """The command line or an input names something unusable: fix the argument."""

    exit_code = 2


class ConfigError(UsageError):
    """A setting, config file or environment variable is invalid: fix the named value."""


class InputError(UsageError):
    """An input (URL, file, list) cannot be read or parsed: the message names it and where."""


class DatabaseError(ArchiverError):
    """The database file cannot be opened or is not an archiver database: check the --db path."""

    exit_code = 2


class DatabaseBusy(ArchiverError):
    """Another run holds the database: wait for it, or point --db elsewhere."""

    exit_code = 3


class FetchError(ArchiverError):
    """One request could not be made or completed; the item is recorded as failed."""


class Refused(FetchError):
    """The address guard or the scheme filter refused a URL before any byte was sent.

    Private, loopback and link-local destinations are refused unless --allow-private
    is given; map test hosts with --connect-to instead of naming 127.0.0.1.
    """

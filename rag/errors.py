"""The project's error hierarchy; entry points turn these into readable messages and exit codes."""


class SectorChatError(Exception):
    """Base of every error sectorchat raises on purpose; its message says how to fix the problem."""


class ConfigError(SectorChatError):
    """A setting is missing or has a value that cannot work."""


class IndexNotFoundError(SectorChatError):
    """The index folder (or the Chroma collection) does not exist yet."""


class IndexMismatchError(SectorChatError):
    """The index was built with another embedding model than the one configured."""


class StoreUnavailableError(SectorChatError):
    """The Chroma server (or the embedded store) cannot be reached or opened."""


class IngestError(SectorChatError):
    """One file cannot be ingested; the message names the reason (the caller knows the file)."""


class FilterError(SectorChatError):
    """A filter (inline ``from:``/``type:``…, a command-line option or a box of the app) has an unusable value."""


class QuestionTooLongError(SectorChatError):
    """A question is longer than SECTORCHAT_MAX_QUESTION_CHARS allows."""

"""Errors the engine raises; the service maps them to HTTP problems."""


class MatchingError(Exception):
    """Base class of every error raised by the engine."""


class IndexMismatchError(MatchingError):
    """A saved index is missing, corrupt or disagrees with the catalogue it should hold."""


class DatasetError(MatchingError):
    """A data set on disk is malformed; the message names file, line and problem."""


class EncoderError(MatchingError):
    """An encoder cannot be loaded or used."""

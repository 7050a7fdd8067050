"""The exceptions the pipeline raises: one small hierarchy, so callers can catch
``BnnLqError`` for anything bnn-lq itself rejects."""

__all__ = [
    "BnnLqError",
    "ConversionError",
    "DataError",
    "DeployError",
    "FlashOverflowError",
    "ModelFormatError",
    "UnsupportedOpError",
]


class BnnLqError(Exception):
    """Base class of every error bnn-lq raises on purpose."""


class DataError(BnnLqError):
    """A data set is missing, corrupt or malformed."""


class ConversionError(BnnLqError):
    """A Keras model could not be converted to a .tflite file."""


class ModelFormatError(BnnLqError, ValueError):
    """A .tflite file is truncated, corrupt, empty or not a TFLite model."""


class UnsupportedOpError(BnnLqError):
    """A model uses an operator or option that this runtime does not implement."""


class DeployError(BnnLqError):
    """Building, running or flashing firmware failed."""


class FlashOverflowError(DeployError):
    """The firmware (weights + embedded test images + code) does not fit the board's flash,
    while its RAM does: fewer embedded test images may fit."""

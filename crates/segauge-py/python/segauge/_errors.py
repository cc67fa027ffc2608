"""The exceptions of segauge. Every message is one line that names the file or the option and the problem."""


class SegaugeError(Exception):
    """Base class of every error segauge raises."""


class InputError(SegaugeError):
    """An input file cannot be read: missing, truncated, not of its format, or not a label map."""


class GridMismatch(InputError):
    """A prediction and its ground truth are not on one voxel grid (shape, spacing, origin or direction)."""


class OptionError(SegaugeError, ValueError):
    """An option or an array is invalid: a value out of range, an unknown option, a wrong shape or dtype."""


class OutputError(SegaugeError, OSError):
    """An output cannot be written, or would replace an input (nothing was written)."""

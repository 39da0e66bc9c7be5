"""The error types numpynn raises for a user's mistake: each carries one sentence naming the problem and the fix."""


class NumpynnError(Exception):
    """Base class: anything numpynn raises on purpose derives from this."""


class DataError(NumpynnError, ValueError):
    """A data file or array is malformed, corrupt or of the wrong shape."""


class UserFileError(NumpynnError, ValueError):
    """A path a user gave is not the file expected there: a folder, a FIFO, a device, or far too large."""


class DownloadError(NumpynnError, OSError):
    """No mirror delivered a file whose hash matched."""


class CheckpointError(NumpynnError, ValueError):
    """A checkpoint file is corrupt, unsafe, or does not fit the model."""


class TrainingDiverged(NumpynnError, ArithmeticError):
    """The loss or the weights stopped being finite during training."""


class TrainingInterrupted(NumpynnError):
    """fit() stopped at a safe point because a stop was requested (Ctrl-C, SIGTERM); `.state` can resume it."""

    def __init__(self, message: str, state: object | None = None, history: object | None = None):
        super().__init__(message)
        self.state, self.history = state, history

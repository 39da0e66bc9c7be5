"""Ctrl-C (SIGINT) and SIGTERM as a request to stop at the next safe point, not an exception at a random line."""

import signal
import threading


class StopRequest:
    """While active (`with StopRequest() as stop:`), SIGINT/SIGTERM only set a flag; `stop()` says if one came.

    Pass it to fit(..., should_stop=stop): training stops between two steps, where a checkpoint is
    consistent. A second Ctrl-C raises KeyboardInterrupt at once, for when the first seems to hang.
    The previous handlers come back when the block ends. Outside the main thread Python cannot install
    handlers, so there it never fires and signals behave as before.
    """

    def __init__(self, signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)):
        self.signals = tuple(signals)
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequest":
        self.signum = None
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for sig, handler in self._previous.items():
            # None means the old handler was not installed from Python; the default is the honest stand-in.
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum

    def __call__(self) -> bool:
        """True once a stop signal has come: fit(should_stop=request) polls it between steps."""
        return self.signum is not None

    @property
    def name(self) -> str | None:
        """'SIGINT' or 'SIGTERM' once a signal came, else None."""
        return None if self.signum is None else signal.Signals(self.signum).name

"""The exceptions microsim raises."""


class MicrosimError(Exception):
    """A microsim error. ``str(e)`` is the command line's message (where, what, a hint).

    Attributes (``None`` when they do not apply):

    - ``kind``: ``"io"``, ``"syntax"``, ``"schema"``, ``"invalid"``, ``"too_large"`` (a
      scenario that cannot run), ``"usage"`` (another bad request) or ``"run"`` (a failed run)
    - ``file``, ``line``, ``column``: where in the scenario (a dict scenario is ``"<dict>"``)
    - ``field``: the field to blame, as ``section.key`` (``"model.items"``)
    - ``set``: the override to blame, as ``section.key=value``
    - ``hint``: what would be accepted, or how to fix it
    """

    def __init__(self, message, *, kind=None, file=None, line=None, column=None, field=None,
                 set=None, hint=None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.set = set
        self.hint = hint


class ScenarioError(MicrosimError, ValueError):
    """The scenario (or a request) cannot run: ``microsim run`` would exit with 2."""


class RunError(MicrosimError, RuntimeError):
    """The run failed (results could not be written): ``microsim run`` would exit with 1."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (a notebook's interrupt) stopped a run, as the command line's first Ctrl-C
    does: the steps under way finished, the replications done were written, and the result
    directory is marked partial. ``e.result`` is that partial :class:`~microsim.Result`."""

    def __init__(self, result):
        super().__init__(f"interrupted: partial results in {result.dir}")
        self.result = result

"""Entry point for ``python3 tests/emulator``.

Python runs this file with ``tests/emulator`` itself on ``sys.path``; we put the parent
(``tests/``) there instead and import ``emulator.cli`` so the package is imported exactly one
way, whether started as a program or imported by the harness/tests.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_PARENT = os.path.dirname(_HERE)
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path.pop(0)
if _PARENT not in sys.path:
    sys.path.insert(0, _PARENT)

from emulator.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

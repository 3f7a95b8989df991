"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap its venvs.

ansible-test fetches ``get-pip-<version>.py`` from a host this project's machines cannot reach,
but it first looks in ``~/.ansible/test/cache/get_pip_<version>.py``. This file is copied there:
it bootstraps pip with the interpreter's own ``ensurepip`` and then lets pip install what
get-pip.py was asked for (the pip version pin comes from PyPI, which is reachable).
"""
import subprocess
import sys

DROPPED = {"--no-setuptools", "--no-wheel"}


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    arguments = [arg for arg in sys.argv[1:] if arg not in DROPPED]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + arguments)


if __name__ == "__main__":
    main()

"""``python -m asyncz_like``: the ``asyncz-like`` command line."""

from asyncz_like.cli import run

if __name__ == "__main__":
    run()

"""``python -m moldstack``: the same as the ``moldstack`` command."""

from moldstack.cli import main

if __name__ == "__main__":
    main()

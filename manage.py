#!/usr/bin/env python
"""Django's command-line utility; ``convive`` (the console script) does the same."""

from convive.__main__ import main

if __name__ == "__main__":
    main()

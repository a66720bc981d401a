"""contestbell: upcoming programming contests, reminded on time.

This package holds the settings, the command line and the composition root that wires the lower
layers (web, bot, scheduler -> notify, fetchers -> models) into each process kind.
"""

"""Command-line interface: the `taskcenter` console script."""

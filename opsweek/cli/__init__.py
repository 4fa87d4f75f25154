"""The command line. ``main.py`` parses; one module per group of commands does the work."""

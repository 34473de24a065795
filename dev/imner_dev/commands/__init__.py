"""Subcommands the dev package adds to ``imner`` (entry-point group ``imner.commands``)."""

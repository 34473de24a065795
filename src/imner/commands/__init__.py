"""Subcommands of the imner CLI; one module per command group."""

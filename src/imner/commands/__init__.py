"""Subcommands of the imner CLI; one module per command group."""

from __future__ import annotations

import argparse


def command_group(subparsers: argparse._SubParsersAction, name: str, help: str,
                  description: str) -> argparse._SubParsersAction:
    """Add ``imner NAME SUBCOMMAND ...`` (``imner NAME`` alone prints its help and exits 2); returns the action to
    add the subcommands to."""
    p = subparsers.add_parser(name, help=help, description=description)
    sub = p.add_subparsers(dest=f"{name.replace('-', '_')}_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return sub

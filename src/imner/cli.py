"""The ``imner`` command: thin subcommands over the library.

Each feature module listed in ``COMMAND_MODULES`` defines ``register(subparsers)``, adding its
subcommand(s) with ``set_defaults(func=...)``. Modules must import heavy dependencies lazily inside
the functions they register, so ``imner --help`` stays fast.

Other installed packages add subcommands through the ``imner.commands`` entry-point group (each entry a
``register(subparsers)`` callable): that is how the unshipped dev package (``dev/``) adds ``imner compare``,
``imner imd-cases`` and ``imner build`` without the runtime ever importing it by name. An entry point is loaded
only when its command is the one run (or for the full help), so ``imner extract`` imports none of them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points

from imner.errors import ImnerError

COMMAND_MODULES: tuple[str, ...] = (
    "imner.commands.extract",
    "imner.commands.corpus",
    "imner.commands.evaluate",
    "imner.commands.lexicon",
    "imner.commands.train",
)

#: entry-point group of subcommands from other installed packages
ENTRY_POINT_GROUP = "imner.commands"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` (the subcommand about to run) limits the entry-point subcommands loaded to that one."""
    from imner import __version__

    parser = argparse.ArgumentParser(
        prog="imner",
        description="Find immune-mediated and infectious disease entities in clinical text.",
    )
    parser.add_argument("--version", action="version", version=f"imner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    plugins = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    if command is not None and command not in sub.choices and any(ep.name == command for ep in plugins):
        plugins = [ep for ep in plugins if ep.name == command]
    elif command is not None and command in sub.choices:
        plugins = []
    for ep in plugins:
        ep.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except ImnerError as e:
        print(f"imner {args.command}: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `imner extract ... | head`
        return 0
    except OSError as e:  # a file that cannot be opened or written (missing folder, no permission, disk full)
        if e.filename is None:
            raise
        print(f"imner {args.command}: error: {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``imner`` command: thin subcommands over the library.

Each feature module listed in ``COMMAND_MODULES`` defines ``register(subparsers)``, adding its
subcommand(s) with ``set_defaults(func=...)``. Modules must import heavy dependencies lazily inside
the functions they register, so ``imner --help`` stays fast.

Errors take one path for every command (:func:`main`): an :class:`~imner.errors.ImnerError` or an
``OSError`` becomes one line ``imner COMMAND: error: <where>: <what>; <what is allowed>`` on standard error
and the exit status of :data:`imner.errors.EXIT_CODES` (1 bad input or options, 2 usage, 3 model or resource
missing or damaged, 4 data missing, 5 a file that cannot be read or written, 130 interrupted). ``--debug`` (anywhere on
the command line, or ``IMNER_DEBUG=1``) shows the traceback instead. Warnings are printed as one line
``imner COMMAND: warning: ...``.

Other installed packages add subcommands through the ``imner.commands`` entry-point group (each entry a
``register(subparsers)`` callable): that is how the unshipped dev package (``dev/``) adds ``imner compare``,
``imner imd-cases`` and ``imner build`` without the runtime ever importing it by name. An entry point is loaded
only when its command is the one run (or for the full help), so ``imner extract`` imports none of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from imner.errors import EXIT_INTERRUPTED, EXIT_USAGE, ImnerError, exit_code

COMMAND_MODULES: tuple[str, ...] = (
    "imner.commands.extract",
    "imner.commands.corpus",
    "imner.commands.evaluate",
    "imner.commands.lexicon",
    "imner.commands.train",
    "imner.commands.cohort",
    "imner.commands.serve",
    "imner.commands.spark",
)
#: the module of :data:`COMMAND_MODULES` that registers each built-in command: running one imports and builds only
#: that module's parser (all of them cost ~10 ms of a one-line ``imner extract``); tests check it against
#: what the modules register
COMMAND_MODULE_OF: dict[str, str] = {
    "extract": "imner.commands.extract", "corpus": "imner.commands.corpus", "evaluate": "imner.commands.evaluate",
    "lexicon": "imner.commands.lexicon", "train": "imner.commands.train",
    **dict.fromkeys(("index", "cohort", "monitor", "summary", "export"), "imner.commands.cohort"),
    "serve": "imner.commands.serve", "spark": "imner.commands.spark",
}
#: the longest error line printed (a message is cut there, never a multi-line dump)
MAX_MESSAGE = 600

#: entry-point group of subcommands from other installed packages
ENTRY_POINT_GROUP = "imner.commands"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``command`` (the subcommand about to run) limits the entry-point subcommands loaded to that one."""
    from imner import __version__

    parser = argparse.ArgumentParser(
        prog="imner",
        description="Find immune-mediated and infectious disease entities in clinical text.",
        epilog="exit status: 0 done, 1 bad input or options, 2 usage, 3 model or resource missing or damaged, "
               "4 data missing, 5 a file that cannot be read or written, 130 interrupted. --debug shows tracebacks.",
    )
    parser.add_argument("--version", action="version", version=f"imner {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    own = COMMAND_MODULE_OF.get(command) if command is not None else None
    for name in COMMAND_MODULES if own not in COMMAND_MODULES else (own,):
        importlib.import_module(name).register(sub)
    if command is not None and command in sub.choices:
        return parser  # a built-in command: no entry point is looked up (scanning them costs tens of ms)
    from importlib.metadata import entry_points

    plugins = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    if command is not None and any(ep.name == command for ep in plugins):
        plugins = [ep for ep in plugins if ep.name == command]
    for ep in plugins:
        ep.load()(sub)
    return parser


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` (with its notes) as one line of at most :data:`MAX_MESSAGE` characters."""
    if isinstance(exc, OSError) and not isinstance(exc, ImnerError):
        names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
        text = f"{' -> '.join(names)}: {exc.strerror or exc}" if names else str(exc.strerror or exc)
    else:
        text = str(exc) or type(exc).__name__
    notes = getattr(exc, "__notes__", None) or []
    text = "; ".join([text, *map(str, notes)])
    text = " ".join(text.split("\n"))
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def _show_warning(command: str):
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"imner {command}: warning: {one_line(message) if isinstance(message, BaseException) else message}",
              file=file or sys.stderr)
    return show


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("IMNER_DEBUG") == "1"
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)     # usage errors: argparse prints them and exits 2
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    command = args.command
    old_show = warnings.showwarning
    if not debug:
        warnings.showwarning = _show_warning(command)
    try:
        rc = args.func(args)
    except BrokenPipeError:  # e.g. `imner extract ... | head`
        try:
            sys.stdout = open(os.devnull, "w")  # no second error when Python flushes stdout at exit
        except OSError:
            pass
        return 0
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"imner {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ImnerError, OSError) as e:
        if debug:
            raise
        print(f"imner {command}: error: {one_line(e)}", file=sys.stderr)
        return exit_code(e)
    finally:
        warnings.showwarning = old_show
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""What start-up loads: the CLI builds only the parser of the command it runs (the table it uses agrees with what
the command modules register)."""

import argparse
import importlib

from imner import cli


def test_each_builtin_command_is_built_from_its_own_module():
    registered = {}
    for name in cli.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == cli.COMMAND_MODULE_OF
    parser = cli.build_parser("extract")
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(action.choices) == {"extract"}
    assert parser.parse_args(["extract", "x.txt"]).func.__module__ == "imner.commands.extract"
    everything = cli.build_parser(None)
    (action,) = [a for a in everything._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(cli.COMMAND_MODULE_OF) <= set(action.choices)

"""The ``imurep`` argument parser class: usage errors that name the closest command, option or choice.

``argparse`` says ``invalid choice: 'analyse' (choose from ...)`` and ``unrecognized arguments:
--placment``; :class:`Parser` turns these into ``unknown command 'analyse'; did you mean
'analyze'?`` and ``unrecognized arguments: --placment; did you mean --placement?``.  Sub-command
parsers made by :meth:`add_subparsers` are of the same class, so every level does this.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
from collections.abc import Sequence
from typing import Any, NoReturn

_INVALID_CHOICE = re.compile(
    r"argument (?P<arg>[^:]+): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.*)\)$"
)
_LONG_LIST = 6  # more choices than this: the list is left out when there is a suggestion


def closest(word: str, candidates: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word`` (difflib ratio ≥ ``cutoff``), or None."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return found[0] if found else None


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


class Parser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose usage errors suggest the closest known word."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``imurep: error: <message>`` (with a suggestion) and exit 2."""
        super().error(self._suggest_choice(message))

    def _suggest_choice(self, message: str) -> str:
        m = _INVALID_CHOICE.match(message)
        if m is None:
            return message
        value = _literal(m["value"])
        choices = _literal(f"[{m['choices']}]")
        if not isinstance(value, str) or not isinstance(choices, list):
            return message
        names = [str(c) for c in choices]
        near = closest(value.lower().replace("-", "_"), names)
        hint = f"; did you mean {near!r}?" if near else ""
        if m["arg"] == "COMMAND":
            return f"unknown command {value!r}{hint} (commands: {', '.join(names)}; see {self.prog} --help)"
        listed = "" if near and len(names) > _LONG_LIST else f" (choose from {', '.join(names)})"
        return f"argument {m['arg']}: invalid choice: {value!r}{hint}{listed}"

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """As :meth:`argparse.ArgumentParser.parse_args`; unknown options are reported by the
        (sub-)command they were given to, with the closest option of that command."""
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            target = self._command_parser(ns)
            message = "unrecognized arguments: " + " ".join(extras)
            known = [o for a in target._actions for o in a.option_strings if o.startswith("--")]
            options = [w.split("=", 1)[0] for w in extras if w.startswith("--")]
            hints = [(o, near) for o in options if (near := closest(o, known))]
            if hints:
                said = [f"{o} → {near}" if len(options) > 1 else near for o, near in hints]
                message += f"; did you mean {', '.join(said)}?"
            target.error(message)
        return ns

    def _command_parser(self, ns: argparse.Namespace) -> argparse.ArgumentParser:
        """The innermost (sub-)command parser selected in ``ns``."""
        parser: argparse.ArgumentParser = self
        while True:
            sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
            chosen = getattr(ns, sub.dest, None) if sub is not None else None
            if sub is None or chosen not in sub.choices:
                return parser
            parser = sub.choices[chosen]

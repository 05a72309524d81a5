"""Self-documenting command-line arguments for single-file experiments.

An experiment declares its settings as a dataclass and writes a docstring under each
field (the CleanRL habit); :func:`parse_dataclass_args` turns that dataclass into an
:mod:`argparse` command line:

* every field ``some_name`` becomes ``--some-name`` with the field's default;
* ``bool`` fields become a ``--x/--no-x`` pair;
* ``int``, ``float`` and ``str`` fields parse one value of the default's type;
* a field whose default is ``None`` parses the non-``None`` type of its annotation
  (``int | None = None`` reads ``--x 3`` as ``3``);
* ``tuple`` and ``list`` fields take zero or more values (``--x a b c``) of the element
  type; tuples come back as tuples;
* the docstring under a field is its help text (:func:`field_docs`).

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass
... class Args:
...     seed: int = 0
...     fast: bool = False
>>> parse_dataclass_args(Args, "demo", ["--seed", "3", "--fast"])
Args(seed=3, fast=True)
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import textwrap
import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from tradelearn.errors import ConfigError

__all__ = ["field_docs", "parse_dataclass_args"]

T = TypeVar("T")


def field_docs(cls: type) -> dict[str, str]:
    """Read the docstring written under each field of a class.

    Parameters
    ----------
    cls : type
        A class (usually a dataclass) whose source can be read with :mod:`inspect`.

    Returns
    -------
    dict of str to str
        Field name to the string literal on the line(s) right after its annotated
        assignment, verbatim. Fields without one are absent; so is everything when the
        source cannot be found (a class built in an interactive session).
    """
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    tree = ast.parse(source)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    if not classes:
        return {}
    docs: dict[str, str] = {}
    for node, nxt in itertools.pairwise(classes[0].body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = nxt.value.value
    return docs


def _default(f: dataclasses.Field[Any]) -> Any:
    """The field's default value, ``MISSING`` when it has none."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _strip_none(annotation: Any) -> Any:
    """``X`` for ``X | None`` / ``Optional[X]``; the annotation itself otherwise."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _argument(name: str, default: Any, annotation: Any, help_text: str | None) -> dict[str, Any]:
    """Keyword arguments of ``add_argument`` for one field."""
    kw: dict[str, Any] = {"help": help_text}
    if default is dataclasses.MISSING:
        kw["required"] = True
    else:
        kw["default"] = default
    hint = _strip_none(annotation)
    origin = typing.get_origin(hint)
    if isinstance(default, bool) or hint is bool:
        kw["action"] = argparse.BooleanOptionalAction
        return kw
    if isinstance(default, tuple | list) or origin in (tuple, list):
        elements = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if len(set(elements)) == 1 and isinstance(elements[0], type):
            kw["type"] = elements[0]
        else:
            kw["type"] = type(default[0]) if default else str
        kw["nargs"] = "*"
        return kw
    if default is not None and default is not dataclasses.MISSING:
        kw["type"] = type(default)
    elif isinstance(hint, type):
        kw["type"] = hint
    else:
        raise ConfigError(
            f"field {name!r}: expected a default or a plain type annotation to parse "
            f"--{name.replace('_', '-')} with, got annotation {annotation!r}"
        )
    return kw


def parse_dataclass_args(
    cls: type[T],
    description: str,
    argv: Sequence[str] | None = None,
    *,
    help_from_docs: bool = True,
) -> T:
    """Build a command line from a dataclass's fields and parse it.

    Parameters
    ----------
    cls : type
        The dataclass; field ``some_name`` becomes flag ``--some-name``.
    description : str
        Text shown at the top of ``--help`` (usually the module docstring's first line).
    argv : sequence of str, optional
        Arguments to parse; ``None`` reads ``sys.argv[1:]``.
    help_from_docs : bool, default True
        Use the docstring under each field (:func:`field_docs`) as its help text.

    Returns
    -------
    T
        An instance of ``cls`` built from the parsed values; tuple fields hold tuples.

    Raises
    ------
    ConfigError
        If ``cls`` is not a dataclass, or a field has neither a default nor a plain type
        to parse its value with.
    SystemExit
        From :mod:`argparse`, on ``--help`` (code 0) or a bad or unknown flag (code 2).
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ConfigError(f"cls: expected a dataclass type, got {cls!r}")
    docs = field_docs(cls) if help_from_docs else {}
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):
        hints = {}
    parser = argparse.ArgumentParser(description=description)
    tuple_fields: set[str] = set()
    for f in dataclasses.fields(cls):
        default = _default(f)
        annotation = hints.get(f.name)
        kw = _argument(f.name, default, annotation, docs.get(f.name))
        if isinstance(default, tuple) or typing.get_origin(_strip_none(annotation)) is tuple:
            tuple_fields.add(f.name)
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, **kw)
    values = vars(parser.parse_args(argv))
    for name in tuple_fields:
        if isinstance(values[name], list):
            values[name] = tuple(values[name])
    return cls(**values)

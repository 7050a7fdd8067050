"""The architecture registry: ``register(name)`` decorates a builder
``(input_shape, num_classes, **options) -> tf.keras.Model``; ``get`` and ``names``
are the only ways in.

Example:
    >>> from bnn_lq.zoo.registry import names
    >>> isinstance(names(), list)
    True
"""

from __future__ import annotations

from typing import Callable

__all__ = ["Entry", "get", "builder", "names", "register", "entries"]

_REGISTRY: dict[str, "Entry"] = {}


class Entry:
    """A registered builder plus what ``bnn-lq zoo list`` shows about it."""

    def __init__(self, name: str, build: Callable, *, paper: str = "", board: str = ""):
        self.name = name
        self.build = build
        self.paper = paper  # citation or link
        self.board = board  # board class it is sized for, "" when none
        self.doc = (build.__doc__ or "").strip().splitlines()[0] if build.__doc__ else ""


def register(name: str, *, paper: str = "", board: str = ""):
    """Decorator adding a builder to the zoo under ``name``."""

    def decorate(build: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"zoo: architecture {name!r} is registered twice")
        _REGISTRY[name] = Entry(name, build, paper=paper, board=board)
        return build

    return decorate


def _load_all() -> None:
    # Importing the package imports every architecture module, which registers them.
    import bnn_lq.zoo  # noqa: F401


def names() -> list[str]:
    """Sorted names of every registered architecture."""
    _load_all()
    return sorted(_REGISTRY)


def entries() -> list[Entry]:
    _load_all()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def builder(name: str) -> Callable:
    """The builder registered as ``name``; an unknown name lists the known ones."""
    _load_all()
    try:
        return _REGISTRY[name].build
    except KeyError:
        raise ValueError(
            f"zoo: unknown architecture {name!r}; known: {', '.join(sorted(_REGISTRY)) or '(none)'}"
        ) from None


def get(name: str, input_shape=None, num_classes=None, **options):
    """Builds architecture ``name``; ``input_shape``/``num_classes`` default to the builder's."""
    build = builder(name)
    kwargs = dict(options)
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    if num_classes is not None:
        kwargs["num_classes"] = int(num_classes)
    return build(**kwargs)

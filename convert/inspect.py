"""Placeholder (being written): inspection of a Graph."""
__all__ = ["Inspection", "format_inspection", "inspect"]


class Inspection:  # noqa: D101
    pass


def inspect(graph):  # noqa: D103
    raise NotImplementedError


def format_inspection(insp):  # noqa: D103
    raise NotImplementedError

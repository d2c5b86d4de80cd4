"""Memoise what several planners compute from the same service.

Planners are pure functions of the Model, and one service is planned by many of them in a
row (the rule files, every deploy target, the generated tests, the docs all start from the
same rule groups; every alert asks which panel shows its signal). :func:`per_service`
keeps the last service's result, so each is computed once per service and at most one
service's intermediates are held at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from .spec.model import Service

T = TypeVar("T")


def per_service(fn: Callable[[Service], T]) -> Callable[[Service], T]:
    """Return ``fn`` remembering its result for the most recent service object (by identity,
    not equality: hashing a whole Model costs more than most planners).

    The result is shared between callers, so they must not mutate it.
    """
    last: list = [None, None]

    @functools.wraps(fn)
    def wrapper(service: Service) -> T:
        if last[0] is not service:
            last[0], last[1] = service, fn(service)
        return last[1]

    return wrapper

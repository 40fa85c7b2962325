"""Minimal valid objects of the Telegram Bot API, built from aiogram's types.

aiogram's types are generated from the published specification
(https://core.telegram.org/bots/api); a sample fills in every required field of a type, and
the `type` of each kind of a union, so it is what Telegram could send at the least.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from typing import Any

from pydantic import BaseModel

JSON = Any


def sample(annotation: Any, depth: int = 0) -> JSON:
    """The least JSON value of a type."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return sample(args[0], depth)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return sample(options[0], depth)
    if origin is typing.Literal:
        return args[0]
    if origin in (list, tuple):
        return [sample(args[0], depth)] if depth < 6 else []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_sample(annotation, depth + 1)
    return _scalar(annotation)


def _scalar(annotation: Any) -> JSON:
    if annotation is bool:
        return True
    if annotation is int:
        return 1
    if annotation is float:
        return 1.5
    if annotation is datetime:
        return 1_780_000_000
    return "x"


def model_sample(model: type[BaseModel], depth: int = 0) -> dict[str, JSON]:
    """Every required field, and every field whose only value is fixed (a union's `type`)."""
    data: dict[str, JSON] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        fixed = typing.get_origin(field.annotation) is typing.Literal
        if field.is_required():
            data[key] = sample(field.annotation, depth)
        elif fixed or (name == "type" and isinstance(field.default, str)):
            data[key] = field.default
    return data

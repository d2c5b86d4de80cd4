"""Check dashboard JSON against Grafana's own dashboard model, from grafana-foundation-sdk.

grafana-foundation-sdk is Grafana Labs' generated code for its schemas (the CUE kinds Grafana
itself validates against), one release per Grafana minor version. Its Python classes carry the
field names (``to_json``/``from_json``) and the field types (annotations). :func:`problems`
walks a dashboard against them and returns one line per field that is unknown (``from_json``
drops it, so ``to_json`` no longer holds it) or mistyped (not of the annotated type).
Panel ``options`` and ``fieldConfig.defaults.custom`` are checked against the panel plugin's
own model, and targets against the data source's query model, as Grafana decodes them.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from importlib import metadata

from grafana_foundation_sdk.cog import plugins, runtime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as sdk

plugins.register_default_plugins()
# The Grafana release whose schema the installed SDK describes (its version after the epoch).
GRAFANA_VERSION = metadata.version("grafana-foundation-sdk").split("!")[-1]


def _attr(cls: type, hints: dict[str, object], key: str) -> str | None:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
    for name in (snake, snake + "_val", key):
        if name in hints:
            return name
    return None


def _without_nulls(value: object) -> object:
    # Nulls are reported on their own; the SDK's decoder would stop at the first one.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _hints(cls: type) -> dict[str, object]:
    module = __import__(cls.__module__, fromlist=["_"])
    return typing.get_type_hints(cls, globalns=vars(module))


def _model(value: object, cls: type, path: str, context: dict) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__} where Grafana has an object ({cls.__name__})"]
    if cls is cogvariants.Dataquery:
        ds_type = context.get("datasource_type", "")
        query = runtime.dataquery_from_json(value, ds_type)
        if isinstance(query, runtime.UnknownDataquery):
            return [f"{path}: no query model for data source type {ds_type!r}"]
        cls = type(query)
    try:
        decoded = cls.from_json(_without_nulls(value)).to_json()
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        return [f"{path}: Grafana cannot read this as {cls.__name__} ({error})"]
    hints = _hints(cls)
    out = []
    if cls is sdk.Panel:
        context = dict(context, datasource_type=(value.get("datasource") or {}).get("type", ""))
    for key, item in value.items():
        where = f"{path}.{key}"
        if item is None and not (cls is sdk.Threshold and key == "value"):
            out.append(f"{where}: null, which Grafana never writes (it drops null fields)")
            continue
        if key not in decoded:
            out.append(f"{where}: unknown field for Grafana {GRAFANA_VERSION} ({cls.__name__})")
            continue
        name = _attr(cls, hints, key)
        if name is None:
            out.append(f"{where}: no type for this field in {cls.__name__}")
            continue
        hint = hints[name]
        if cls is sdk.Panel and key == "options":
            config = runtime.panelcfg_config(value.get("type", ""))
            if config is not None and config.options_from_json_hook is not None:
                hint = config.options_from_json_hook.__self__
        if cls is sdk.FieldConfigSource and key == "defaults":
            out.extend(_field_defaults(item, where, context))
            continue
        out.extend(check(item, hint, where, context))
    return out


def _field_defaults(value: object, path: str, context: dict) -> list[str]:
    out = []
    custom = value.get("custom") if isinstance(value, dict) else None
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "custom"}
    out.extend(_model(value, sdk.FieldConfig, path, context))
    if custom is not None:
        config = runtime.panelcfg_config(context.get("panel_type", ""))
        if config is not None and config.field_config_from_json_hook is not None:
            out.extend(
                check(
                    custom, config.field_config_from_json_hook.__self__, f"{path}.custom", context
                )
            )
        elif custom != {}:
            out.append(f"{path}.custom: the panel type has no custom field config")
    return out


def check(value: object, hint: object, path: str, context: dict | None = None) -> list[str]:
    """Return the problems of ``value`` read as the SDK type ``hint`` (empty when it fits)."""
    context = context or {}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (typing.Any, object):
        return []
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return []
        tried = [check(value, a, path, context) for a in args if a is not type(None)]
        return [] if any(not t for t in tried) else min(tried, key=len)
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {list(args)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where Grafana has a list"]
        return [p for i, v in enumerate(value) for p in check(v, args[0], f"{path}[{i}]", context)]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where Grafana has an object"]
        return [p for k, v in value.items() for p in check(v, args[1], f"{path}.{k}", context)]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [m.value for m in hint]
        return [] if value in allowed else [f"{path}: {value!r} is not one of {allowed}"]
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if hint in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if hint is int:
            ok = ok and float(value).is_integer()
        return [] if ok else [f"{path}: {value!r} is not a number ({hint.__name__})"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{path}: {value!r} is not a string"]
    if hint is cogvariants.Dataquery or (isinstance(hint, type) and hasattr(hint, "from_json")):
        if hint is sdk.Panel and isinstance(value, dict):
            context = dict(context, panel_type=value.get("type", ""))
        return _model(value, hint, path, context)
    return [f"{path}: no rule for the type {hint!r}"]


def problems(board: dict) -> list[str]:
    """Return every field of ``board`` that Grafana's dashboard model does not have or type."""
    out = []
    for i, panel in enumerate(board.get("panels", [])):
        model = sdk.RowPanel if panel.get("type") == "row" else sdk.Panel
        out.extend(check(panel, model, f"panels[{i}]"))
    rest = {k: v for k, v in board.items() if k != "panels"}
    out.extend(_model(rest, sdk.Dashboard, "dashboard", {}))
    return out

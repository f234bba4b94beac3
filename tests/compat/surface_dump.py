"""Print, as JSON, the public surface of the ``rundial`` importable by this interpreter.

Run by tests/compat/test_rc1_surface.py under the published rc1 SDK's venv and under ours, so
both sides are introspected by the same code. Standard library only; reads nothing else.

Output: ``modules`` (each package's public names and submodules), ``aliases`` (the values of
``Literal`` type aliases), ``signatures`` (``"rundial.Run.finish"`` → its parameters) and
``members`` (``"rundial.Run"`` → its public attribute names, dataclass fields included) and
``client_options`` (the parameters of ``rundial.RundialClient``'s constructor: rc1's ``rd.init``
passes its ``**client_options`` there).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import typing
from typing import Any

PACKAGES = ("rundial", "rundial_sdk")
# Classes whose members and method signatures are compared (users call them on instances);
# constructors only of the classes users build themselves.
MEMBER_CLASSES = ("Run", "NoopRun", "Span", "RundialDiagnostics", "Client", "RundialEvalSuite")
CONSTRUCTED = ("Image", "Table", "Client")


def literal_default(value: Any) -> Any:
    """A default as JSON when it is a plain literal, else a marker naming its kind."""
    if value is inspect.Parameter.empty:
        return {"required": True}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    return {"other": type(value).__name__}


def parameters(func: Any) -> list[dict[str, Any]]:
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    return [{"name": p.name, "kind": p.kind.name, "default": literal_default(p.default)}
            for p in params]


def public_names(module: Any) -> list[str]:
    """``__all__`` plus the classes and functions the package itself defines (rc1 has some
    public ones outside ``__all__``)."""
    names = set(getattr(module, "__all__", ()))
    names |= {"__version__"} & set(vars(module))
    for name, value in vars(module).items():
        own = getattr(value, "__module__", "") or ""
        if (not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
                and own.split(".")[0] in PACKAGES):
            names.add(name)
    return sorted(names)


def members(cls: type) -> list[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}
    return sorted(names)


def dump() -> dict[str, Any]:
    out: dict[str, Any] = {"modules": {}, "aliases": {}, "signatures": {}, "members": {},
                           "client_options": []}
    for package in PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError:  # reported by the comparison: every name of it missing
            continue
        names = public_names(module)
        out["modules"][package] = {
            "names": names,
            "submodules": sorted(m.name for m in pkgutil.iter_modules(module.__path__)
                                 if not m.name.startswith("_"))}
        for name in names:
            value = getattr(module, name)
            if typing.get_origin(value) is typing.Literal:
                out["aliases"][f"{package}.{name}"] = sorted(typing.get_args(value))
            elif inspect.isfunction(value):
                out["signatures"][f"{package}.{name}"] = parameters(value)
            elif inspect.isclass(value) and name in CONSTRUCTED:
                out["signatures"][f"{package}.{name}"] = parameters(value.__init__)
            elif type(value).__module__.split(".")[0] in PACKAGES:  # an object, e.g. rd.eval
                dump_members(out, f"{package}.{name}", type(value))
    client = getattr(importlib.import_module("rundial"), "RundialClient", None)
    if client is not None:
        out["client_options"] = [p["name"] for p in parameters(client.__init__)]
    for name in MEMBER_CLASSES:
        cls = getattr(importlib.import_module("rundial"), name, None)
        if cls is not None:
            dump_members(out, f"rundial.{name}", cls)
    return out


def dump_members(out: dict[str, Any], prefix: str, cls: type) -> None:
    """``cls``'s public members, and the signatures of its methods, under ``prefix``."""
    out["members"][prefix] = members(cls)
    for member in members(cls):
        value = inspect.getattr_static(cls, member, None)
        if inspect.isfunction(value):
            out["signatures"][f"{prefix}.{member}"] = parameters(value)


print(json.dumps(dump()))

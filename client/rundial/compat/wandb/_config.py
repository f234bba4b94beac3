"""``wandb.config``: the run's config, by attribute and by item, sent as rundial config patches.

Values are kept as given (``config.lr`` returns what was set); every change is sent with
``run.update_config`` (non-blocking: queued, then merged by the collector), where nested dicts
flatten with ``.`` as in the rest of rundial. ``update`` takes a mapping, an
``argparse.Namespace`` (or any object with ``__dict__``) or None; so does ``wandb.init(config=)``.
Deleting a key is not supported (``NotImplementedError``): rundial config patches only add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any


def as_config_dict(config: Any, include: Iterable[str] | None = None,
                   exclude: Iterable[str] | None = None) -> dict[str, Any]:
    """A plain dict from a mapping, a Namespace-like object or None; TypeError otherwise."""
    if config is None:
        data: dict[str, Any] = {}
    elif isinstance(config, Mapping):
        data = dict(config)
    elif isinstance(config, (str, bytes)) or not hasattr(config, "__dict__"):
        raise TypeError("config must be a dict, an argparse.Namespace or None, not "
                        f"{type(config).__name__}")
    else:
        data = {k: v for k, v in vars(config).items() if not k.startswith("_")}
    for key in data:
        if not isinstance(key, str):
            raise TypeError(f"config keys must be str, not {type(key).__name__} ({key!r})")
    if include is not None:
        keep = set(include)
        data = {k: v for k, v in data.items() if k in keep}
    if exclude is not None:
        drop = set(exclude)
        data = {k: v for k, v in data.items() if k not in drop}
    return data


class Config:
    """``wandb.config`` / ``run.config`` (see the module docstring)."""

    _items: dict[str, Any]
    _send: Callable[[Mapping[str, Any]], object]

    def __init__(self, initial: Mapping[str, Any], send: Callable[[Mapping[str, Any]], object]) -> None:
        object.__setattr__(self, "_items", dict(initial))
        object.__setattr__(self, "_send", send)

    def update(self, data: Any = None, allow_val_change: bool | None = None) -> None:
        """Merge a mapping or a Namespace; sends one patch."""
        items = as_config_dict(data)
        if items:
            self._items.update(items)
            self._send(items)

    def setdefaults(self, data: Any) -> None:
        """Set the keys of ``data`` that are not set yet."""
        missing = {k: v for k, v in as_config_dict(data).items() if k not in self._items}
        if missing:
            self.update(missing)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def keys(self) -> Iterable[str]:
        return self._items.keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._items.items()

    def values(self) -> Iterable[Any]:
        return self._items.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # private and dunder names (copy, pickle): never config keys
            raise AttributeError(name)
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self.update({name: value})

    def __delitem__(self, key: str) -> None:
        raise NotImplementedError("deleting config keys is not supported by rundial.compat.wandb "
                                  "(config patches only add); see docs/wandb-compat.md")

    __delattr__ = __delitem__

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Config({self._items!r})"

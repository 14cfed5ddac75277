"""One registry for every kind of plugin found by name: detector roles and second-stage models
(perception), analyzers by incident type (analytics). It knows none of its plugins: the modules
that list the built-in ones register them."""

from typing import Generic, TypeVar

Name = TypeVar("Name", bound=str)
Entry = TypeVar("Entry")


class Registry(Generic[Name, Entry]):
    """The plugins of one kind (`kind` names it in errors): each registered once, found by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[Name, Entry] = {}

    def register(self, name: Name, entry: Entry) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {str(name)!r} is already registered")
        self._entries[name] = entry

    def get(self, name: Name) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.known()) or "none"
            raise ValueError(f"unknown {self.kind} {str(name)!r} (known: {known})") from None

    def known(self) -> list[Name]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

"""Third-party imports the sandbox never needs at start-up, deferred to their first use.

eth-account imports eth-keyfile at its own import (for `Account.encrypt`/`Account.decrypt`, which the
sandbox never calls), and eth-keyfile >= 0.10 imports py_ecc's BLS12-381 modules, which compute pairing
tables when they are imported: about 0.3 s of CPU at every start of `sandbox serve`, of every test worker
and of every script, for nothing.

`defer_eth_keyfile` registers, before anything imports them, the real modules ``eth_keyfile`` and
``eth_keyfile.keyfile`` (their own specs and files) but does not run them yet. eth-account only needs, at
its import, the keyfile's type alias ``KDFType`` (set here to the same ``Literal``) and the package's
functions (forwarders here). The first use of anything else (a function call, ``__version__``, any other
name) runs the real module's code, once, in the module object already registered, exactly as a normal
import would have: behaviour is unchanged, only the moment of the import moves.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any, Literal

#: The names eth_keyfile's ``__init__`` re-exports from ``eth_keyfile.keyfile``.
_KEYFILE_FUNCTIONS = ("create_keyfile_json", "decode_keyfile_json", "extract_key_from_keyfile", "load_keyfile")


class _Pending:
    """A registered module whose code runs at the first access to a name it does not have yet. Another
    thread asking meanwhile waits for the code to have run; the thread running it gets AttributeError
    for a name its module's own code asks of it before defining it, as with a normal import."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.lock = threading.RLock()
        self.state: Literal["pending", "loading", "loaded"] = "pending"

    def load(self, name: str) -> Any:
        with self.lock:
            if self.state == "pending":
                self.state = "loading"
                spec = self.module.__spec__
                assert spec is not None and spec.loader is not None
                try:
                    spec.loader.exec_module(self.module)
                except BaseException:
                    self.state = "pending"
                    raise
                self.module.__dict__.pop("__getattr__", None)
                self.state = "loaded"
            if name in self.module.__dict__:
                return self.module.__dict__[name]
        raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r}")

    def install(self) -> None:
        def __getattr__(name: str) -> Any:  # noqa: N807  (PEP 562's module-level hook)
            if name.startswith("__") and name != "__version__":
                raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r}")
            return self.load(name)

        self.module.__dict__["__getattr__"] = __getattr__


def _forwarder(pending: _Pending, name: str) -> Any:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return pending.load(name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = pending.module.__name__
    return forward


def defer_eth_keyfile() -> None:
    """Register ``eth_keyfile`` (and its ``keyfile``) to run at first use; a no-op once either is imported."""
    if "eth_keyfile" in sys.modules or "eth_keyfile.keyfile" in sys.modules:
        return
    try:
        package_spec = importlib.util.find_spec("eth_keyfile")
    except (ImportError, ValueError):
        return
    if package_spec is None or package_spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(package_spec)
    sys.modules["eth_keyfile"] = package
    try:
        keyfile_spec = importlib.util.find_spec("eth_keyfile.keyfile")  # through the package's __path__
    except (ImportError, ValueError):
        keyfile_spec = None
    if keyfile_spec is None:
        del sys.modules["eth_keyfile"]
        return
    keyfile = importlib.util.module_from_spec(keyfile_spec)
    keyfile.__dict__["KDFType"] = Literal["pbkdf2", "scrypt"]  # the real module's definition, unchanged
    keyfile_pending = _Pending(keyfile)
    keyfile_pending.install()
    package_pending = _Pending(package)
    for name in _KEYFILE_FUNCTIONS:
        package.__dict__[name] = _forwarder(keyfile_pending, name)
    package.__dict__["keyfile"] = keyfile
    package_pending.install()
    sys.modules["eth_keyfile.keyfile"] = keyfile


__all__ = ["defer_eth_keyfile"]

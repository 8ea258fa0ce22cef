"""The sandbox library (no HTTP): the chain seam, the contracts' bindings, scenarios, the read model."""

from sandbox._deferred import defer_eth_keyfile

defer_eth_keyfile()

"""The chain seam: the `Chain` protocol, its dev sub-protocol and the backends."""

from sandbox.chain.base import Block, BlockTransaction, Chain, ChainAccount, DevChain, Log, NodeChain, Receipt
from sandbox.chain.factory import connect
from sandbox.chain.revert import RevertDecoder
from sandbox.chain.rpc import RpcChain
from sandbox.chain.web3chain import DEFAULT_GAS, Web3Chain

__all__ = [
    "DEFAULT_GAS",
    "Block",
    "BlockTransaction",
    "Chain",
    "ChainAccount",
    "DevChain",
    "Log",
    "NodeChain",
    "Receipt",
    "RevertDecoder",
    "RpcChain",
    "Web3Chain",
    "connect",
]

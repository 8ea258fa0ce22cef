"""The generated typed-events module: committed = fresh, complete over the artifacts, and the generator's
rules (types, names, structs, indexed dynamic values, clashes) checked on synthetic ABIs."""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Callable
from typing import Any, get_type_hints

import pytest
from eth_abi import encode
from eth_typing import ChecksumAddress
from eth_utils import event_abi_to_log_topic, keccak, to_checksum_address

from sandbox import codegen
from sandbox.abi import artifact_names, canonical_type, load_artifact
from sandbox.chain.base import Log
from sandbox.contracts import events
from sandbox.contracts.event import ContractEvent

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20


def test_committed_module_matches_a_fresh_generation() -> None:
    committed = codegen.OUTPUT.read_text(encoding="utf-8")
    assert committed == codegen.render(), "sandbox/contracts/events.py is stale: run `python -m sandbox.codegen`"


def test_every_event_of_every_artifact_has_its_class() -> None:
    names: dict[type[ContractEvent], list[tuple[str, ...]]] = {k: [] for k in events.EVENT_TYPES}
    for name in artifact_names():
        for item in load_artifact(name).abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            topic = event_abi_to_log_topic(item)  # type: ignore[arg-type]
            layout = tuple(bool(i["indexed"]) for i in item["inputs"])
            found = [k for k in events.EVENTS_BY_TOPIC.get(topic, ()) if tuple(p.indexed for p in k.params) == layout]
            assert len(found) == 1, f"{name}.{item['name']}: {found}"
            kind = found[0]
            assert kind.event_name == item["name"]
            assert [p.type for p in kind.params] == [canonical_type(i) for i in item["inputs"]]
            names[kind].append(tuple(i["name"] for i in item["inputs"]))
            assert keccak(text=kind.signature) == kind.topic == topic
    for kind, declared in names.items():  # parameter names: those most artifacts use
        assert declared, f"{kind.__name__} is declared by no artifact"
        chosen = tuple(p.name for p in kind.params)
        assert all(declared.count(chosen) >= declared.count(other) for other in declared), kind.__name__


def test_generated_classes_are_frozen_with_log_metadata() -> None:
    hints = get_type_hints(events.Transfer)
    assert hints["from_"] is ChecksumAddress and hints["value"] is int
    assert events.Transfer.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert {"address", "transaction_hash", "block_number", "log_index"} <= {
        f.name for f in dataclasses.fields(events.Transfer)
    }
    assert len(events.EVENT_TYPES) == len({k.__name__ for k in events.EVENT_TYPES})


def test_snake_case() -> None:
    cases = {
        "tradeId": "trade_id",
        "_newName": "new_name",
        "usNonAccredited": "us_non_accredited",
        "from": "from_",
        "tokenID": "token_id",
        "ERC20Address": "erc20_address",
        "value": "value",
    }
    assert {k: codegen.snake_case(k) for k in cases} == cases


def _param(name: str, kind: str, *, indexed: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "indexed": indexed, "internalType": kind, **extra}


POINT = {
    "type": "tuple",
    "internalType": "struct IShapes.Point",
    "components": [
        {"name": "x", "type": "int64", "internalType": "int64"},
        {"name": "owner", "type": "address", "internalType": "address"},
    ],
}

SYNTHETIC: list[dict[str, Any]] = [
    {
        "type": "event",
        "name": "Everything",
        "anonymous": False,
        "inputs": [
            _param("from", "address", indexed=True),
            _param("label", "string", indexed=True),  # hashed
            _param("address", "uint16"),  # clashes with the log's address
            _param("", "bool"),
            _param("self", "uint8"),  # would break the dataclass's __init__
            _param("tag", "bytes4"),
            _param("blob", "bytes"),
            _param("holders", "address[]"),
            _param("grid", "uint8[2][]"),
            {"name": "origin", "indexed": False, **POINT},
            {"name": "path", "indexed": False, **POINT, "type": "tuple[]", "internalType": "struct IShapes.Point[]"},
        ],
    },
    # the same name with another signature, and the same signature indexed otherwise (same topic)
    {"type": "event", "name": "Moved", "anonymous": False, "inputs": [_param("who", "address", indexed=True)]},
    {"type": "event", "name": "Moved", "anonymous": False, "inputs": [_param("who", "uint256", indexed=True)]},
    {"type": "event", "name": "Moved", "anonymous": False, "inputs": [_param("who", "uint256")]},
    {"type": "event", "name": "Ignored", "anonymous": True, "inputs": []},
]


@pytest.fixture
def load_module(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], types.ModuleType]:
    """Imports generated source as a module (registered in sys.modules, as dataclasses need)."""

    def load(source: str) -> types.ModuleType:
        module = types.ModuleType("synthetic_events")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        exec(compile(source, module.__name__, "exec"), module.__dict__)
        return module

    return load


def test_generator_renders_types_structs_and_clashes(load_module: Callable[[str], types.ModuleType]) -> None:
    source = codegen.Generator([("Shapes", SYNTHETIC), ("Other", SYNTHETIC[1:2])]).render()
    module = load_module(source)
    everything = module.Everything
    fields = [f.name for f in dataclasses.fields(everything)][4:]
    assert fields == ["from_", "label", "address_", "arg3", "self_", "tag", "blob", "holders", "grid", "origin", "path"]
    hints = get_type_hints(everything)
    assert hints["label"] is bytes  # indexed string: its hash
    assert hints["holders"] == tuple[ChecksumAddress, ...]
    assert hints["grid"] == tuple[tuple[int, ...], ...]
    assert hints["origin"] is module.Point and hints["path"] == tuple[module.Point, ...]
    # three `Moved` signatures/layouts: three classes, two sharing a topic
    moved = sorted(k.__name__ for k in module.EVENT_TYPES if k.event_name == "Moved")
    assert moved == ["ShapesMoved", "ShapesMoved2", "ShapesMoved3"]
    assert len(module.EVENTS_BY_TOPIC[keccak(text="Moved(uint256)")]) == 2
    assert not any(k.event_name == "Ignored" for k in module.EVENT_TYPES)
    assert "Shapes, Other" not in source and "declared by Other, Shapes." in source


def test_generated_class_decodes_a_log(load_module: Callable[[str], types.ModuleType]) -> None:
    module = load_module(codegen.Generator([("Shapes", SYNTHETIC)]).render())
    types_plain = ["uint16", "bool", "uint8", "bytes4", "bytes", "address[]", "uint8[2][]"]
    types_plain += ["(int64,address)", "(int64,address)[]"]
    data = encode(
        types_plain,
        [7, True, 9, b"\x01\x02\x03\x04", b"blob", [ALICE, BOB], [[1, 2], [3, 4]], (-5, BOB), [(1, ALICE), (2, BOB)]],
    )
    topics = (module.Everything.topic, bytes(12) + bytes.fromhex(ALICE[2:]), keccak(text="label"))
    log = Log(BOB.lower(), topics, data, 12, "0x" + "ab" * 32, 3)
    assert module.Everything.matches(log)
    event = module.Everything.from_log(log)
    point = module.Point
    assert event == module.Everything(
        address=to_checksum_address(BOB),
        transaction_hash="0x" + "ab" * 32,
        block_number=12,
        log_index=3,
        from_=to_checksum_address(ALICE),
        label=keccak(text="label"),
        address_=7,
        arg3=True,
        self_=9,
        tag=b"\x01\x02\x03\x04",
        blob=b"blob",
        holders=(to_checksum_address(ALICE), to_checksum_address(BOB)),
        grid=((1, 2), (3, 4)),
        origin=point(-5, to_checksum_address(BOB)),
        path=(point(1, to_checksum_address(ALICE)), point(2, to_checksum_address(BOB))),
    )
    assert event.name == "Everything"
    assert event.args["from"] == to_checksum_address(ALICE) and event.args["address"] == 7
    assert event.args[""] is True and list(event.args) == [i["name"] for i in SYNTHETIC[0]["inputs"]]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.tag = b""
    other_layout = Log(BOB, topics[:2], data, 12, "0x", 3)
    assert not module.Everything.matches(other_layout)


def test_generator_refuses_types_it_cannot_express() -> None:
    abi = [{"type": "event", "name": "Odd", "anonymous": False, "inputs": [_param("x", "fixed128x18")]}]
    with pytest.raises(codegen.CodegenError, match="fixed128x18"):
        codegen.Generator([("Odd", abi)]).render()


def test_check_mode_reports_a_stale_module(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "events.py"
    stale.write_text("# stale\n", encoding="utf-8")
    monkeypatch.setattr(codegen, "OUTPUT", stale)
    assert codegen.main(["--check"]) == 1
    assert codegen.main([]) == 0
    assert codegen.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == codegen.render()


def test_base_class_is_the_common_interface() -> None:
    assert all(issubclass(k, ContractEvent) for k in events.EVENT_TYPES)


def test_structs_of_the_same_name_are_qualified(load_module: Callable[[str], types.ModuleType]) -> None:
    other_point = {**POINT, "internalType": "struct IOther.Point", "components": POINT["components"][:1]}
    abi = [
        {"type": "event", "name": "A", "anonymous": False, "inputs": [{"name": "p", "indexed": False, **POINT}]},
        {"type": "event", "name": "B", "anonymous": False, "inputs": [{"name": "p", "indexed": False, **other_point}]},
    ]
    module = load_module(codegen.Generator([("Shapes", abi)]).render())
    assert get_type_hints(module.A)["p"] is module.IShapesPoint
    assert get_type_hints(module.B)["p"] is module.IOtherPoint
    assert [f.name for f in dataclasses.fields(module.IOtherPoint)] == ["x"]

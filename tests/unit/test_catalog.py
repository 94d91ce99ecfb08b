"""The shipped VM size and image catalogs, and the lookups the validator builds on them."""

from __future__ import annotations

import json
from datetime import date
from importlib.resources import files

import pytest

from deployer.stack import catalog


def _data(name: str):
    return json.loads((files("deployer") / "data" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("vm_size", "expected"),
    [
        ("Standard_D2s_v3", 2),
        ("standard_d2s_v3", 2),
        ("STANDARD_D2S_V3", 2),
        ("  Standard_D2s_v3 ", 2),
        ("Standard_A1", 1),
        ("Standard_A8m_v2", 8),
        ("Standard_D1_v2", 1),
        ("Standard_DS15_v2", 20),
        ("Standard_D64_v3", 64),
        ("Standard_D16s_v4", 16),
        ("Standard_D2a_v4", 2),
        ("Standard_D96as_v4", 96),
        ("Standard_D96_v5", 96),
        ("Standard_D8s_v5", 8),
        ("Standard_D4ads_v5", 4),
        ("Standard_D48ds_v5", 48),
        ("Standard_E20_v3", 20),
        ("Standard_E64is_v3", 64),
        ("Standard_E32s_v4", 32),
        ("Standard_E96a_v4", 96),
        ("Standard_E48as_v4", 48),
        ("Standard_E104s_v5", 104),
        ("Standard_F16", 16),
        ("Standard_F72s_v2", 72),
        ("Standard_H16r", 16),
        ("Standard_HB60rs", 60),
        ("Standard_HB120rs_v2", 120),
        ("Standard_HB120-32rs_v3", 32),
        ("Standard_HC44rs", 44),
        ("Standard_L80s_v2", 80),
        ("Standard_L8s_v3", 8),
        ("Standard_M128ms", 128),
        ("Standard_NC24r", 24),
        ("Standard_NC6s_v3", 6),
        ("Standard_NC4as_T4_v3", 4),
        ("Standard_NC64as_T4_v3", 64),
        ("Standard_ND40rs_v2", 40),
        ("Standard_NV12", 12),
        ("Standard_NV32as_v4", 32),
        ("Standard_D3_v9", None),
        ("Standard_B2s", 2),
        ("Standard_D4as_v6", 4),
        ("Standard_NV36ads_A10_v5", 36),
        ("Standard_HB176-96rs_v4", 96),
        ("Standard_E8dsv5", None),  # Azure spells it Standard_E8ds_v5
        ("", None),
    ],
)
def test_vcpus(vm_size, expected):
    assert catalog.vcpus(vm_size) == expected


@pytest.mark.parametrize(
    ("vm_size", "expected"),
    [
        ("Standard_A1", 4),  # 4 × 1
        ("Standard_D2s_v3", 8),  # 4 × 2
        ("Standard_F72s_v2", 256),  # 4 × 72 = 288, capped
        ("Standard_D64_v3", 256),  # 4 × 64 = 256 exactly
        ("Standard_D48_v3", 192),
        ("Standard_HB120rs_v3", 256),
        ("Standard_Unknown_v1", None),
    ],
)
def test_max_task_slots(vm_size, expected):
    assert catalog.max_task_slots(vm_size) == expected


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "expected"),
    [
        ("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", ("batch.node.ubuntu 22.04",)),
        ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-LTS-gen2", ("batch.node.ubuntu 22.04",)),
        ("canonical", "ubuntu-24_04-lts", "server", ("batch.node.ubuntu 24.04",)),
        ("canonical", "0001-com-ubuntu-server-focal", "20_04-lts", ("batch.node.ubuntu 20.04",)),
        ("almalinux", "almalinux-x86_64", "8-gen2", ("batch.node.el 8",)),
        ("AlmaLinux", "AlmaLinux-x86_64", "9-gen2", ("batch.node.el 9",)),
        ("microsoftwindowsserver", "windowsserver", "2019-datacenter", ("batch.node.windows amd64",)),
        ("MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-core-smalldisk",
         ("batch.node.windows amd64",)),
        ("microsoftwindowsserver", "windowsserver", "2022-datacenter-azure-edition",
         ("batch.node.windows amd64",)),
        ("microsoft-azure-batch", "ubuntu-server-container", "20-04-lts", ("batch.node.ubuntu 20.04",)),
        ("microsoft-dsvm", "ubuntu-hpc", "2204", ("batch.node.ubuntu 22.04",)),
        # known publisher and offer, unknown sku: unverified, not wrong
        ("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-arm64", None),
        ("microsoftwindowsserver", "windowsserver", "2012-r2-datacenter", ("batch.node.windows amd64",)),
        ("microsoftwindowsserver", "windowsserver", "2025-datacenter", None),
        ("canonical", "UbuntuServer", "18.04-LTS", ("batch.node.ubuntu 18.04",)),
        ("OpenLogic", "CentOS", "7.9", ("batch.node.centos 7",)),
        ("almalinux", "almalinux-x86_64", "10-gen2", None),
        # unknown image
        ("someone", "custom-image", "1", None),
    ],
)
def test_expected_node_agents(publisher, offer, sku, expected):
    assert catalog.expected_node_agents(publisher, offer, sku) == expected


def test_vm_size_table_is_well_formed():
    sizes = _data("vm_sizes.json")["sizes"]
    assert len(sizes) >= 150
    for key, count in sizes.items():
        assert key == key.lower() and key.startswith("standard_"), key
        assert isinstance(count, int) and 1 <= count <= 416, (key, count)


def test_image_table_is_well_formed():
    for entry in _data("images.json")["images"]:
        assert set(entry) <= {"publisher", "offer", "skus", "skuPrefixes", "nodeAgentSkuIds",
                              "batchSupportEndOfLife", "successor", "source"}, entry
        assert entry["publisher"] and entry["offer"], entry
        assert entry.get("skus") or entry.get("skuPrefixes"), entry
        assert all(agent.startswith("batch.node.") for agent in entry["nodeAgentSkuIds"]), entry
        if "batchSupportEndOfLife" in entry:  # a retiring image says what to use instead, and where that is said
            date.fromisoformat(entry["batchSupportEndOfLife"])
            successor = entry["successor"]
            assert catalog.expected_node_agents(successor["publisher"], successor["offer"], successor["sku"]) == (
                successor["nodeAgentSkuId"],), entry
            later = catalog.image_lifecycle(successor["publisher"], successor["offer"], successor["sku"])
            assert later is None or later.ends.isoformat() > entry["batchSupportEndOfLife"], entry
            assert entry["source"].startswith("https://"), entry


@pytest.mark.parametrize("name", ["vm_sizes.json", "vm_series.json", "images.json"])
def test_lifecycle_tables_say_where_their_facts_come_from_and_when(name):
    data = _data(name)
    date.fromisoformat(data["asOf"])
    assert data["sources"] and all(source.startswith("https://") for source in data["sources"])


def test_series_table_is_well_formed_and_every_successor_is_a_size_that_is_not_retiring_first():
    import re

    for entry in _data("vm_series.json")["series"]:
        re.compile(entry["pattern"])
        retires = date.fromisoformat(entry["retires"])
        assert entry["source"].startswith("https://"), entry
        for successor in re.findall(r"Standard_\w+", entry["successor"]):
            assert catalog.vcpus(successor) is not None, (entry["series"], successor)
            later = catalog.series_lifecycle(successor)
            assert later is None or later.ends > retires, (entry["series"], successor)


@pytest.mark.parametrize(("vm_size", "series", "retires"), [
    ("Standard_NC6", "NC-series", "2023-09-06"),
    ("Standard_NC24r", "NC-series", "2023-09-06"),
    ("Standard_NC12s_v2", "NCv2-series", "2023-09-06"),
    ("Standard_ND24rs", "ND-series", "2023-09-06"),
    ("standard_nv6", "NV-series", "2023-09-06"),
    ("Standard_NC6s_v3", "NCv3-series", "2025-09-30"),
    ("Standard_NV12s_v3", "NVv3-series", "2026-09-30"),
    ("Standard_A1", "Basic and Standard A (Av1)-series", "2024-08-31"),
    ("Standard_A9", "A8-A11-series", "2021-03-01"),
    ("Standard_H16r", "H-series", "2024-09-28"),
    ("Standard_DS15_v2", "D, Ds, Dv2, Dsv2 and Ls-series", "2028-05-01"),
    ("Standard_F72s_v2", "Av2, Amv2, Bv1, F, Fs, Fsv2, G, Gs and Lsv2-series", "2028-11-15"),
    ("Standard_B2s", "Av2, Amv2, Bv1, F, Fs, Fsv2, G, Gs and Lsv2-series", "2028-11-15"),
    ("Standard_B2s_v2", None, None),
    ("Standard_NV12s_v4", None, None),
    ("Standard_NC4as_T4_v3", None, None),
    ("Standard_NC24ads_A100_v4", None, None),
    ("Standard_D2s_v5", None, None),
])
def test_series_lifecycle(vm_size, series, retires):
    found = catalog.series_lifecycle(vm_size)
    assert (found.what, found.ends.isoformat()) == (series, retires) if series else found is None


@pytest.mark.parametrize(("agent", "ends"), [
    ("batch.node.ubuntu 18.04", "2023-05-30"),
    ("batch.node.centos  7", "2024-07-01"),  # spaces and case as Batch compares them
    ("Batch.Node.Ubuntu 20.04", "2025-04-23"),
    ("batch.node.ubuntu 24.04", None),
    ("batch.node.windows amd64", None),
])
def test_agent_lifecycle(agent, ends):
    found = catalog.agent_lifecycle(agent)
    assert (found.ends.isoformat() if found else None) == ends


@pytest.mark.parametrize(("typed", "meant"), [
    ("Standard_E8dsv5", "Standard_E8ds_v5"),  # not Standard_E8d_v5: only the underscore is missing
    ("standard_d4sv5", "Standard_D4s_v5"),
    ("Standard_NC6sv3", "Standard_NC6s_v3"),
    ("Standard_D2s_v33", "Standard_D2s_v3"),
    ("Standard_F8sv2", "Standard_F8s_v2"),
    ("Standard_E8d_v6", "Standard_E8ds_v6"),  # same family, vCPUs and version: the feature letters differ
    ("Standard_Nope_v9", None),
])
def test_suggest_vm_size_ranks_family_and_version_first(typed, meant):
    assert catalog.suggest_vm_size(typed) == meant

def test_tables_are_read_once():
    catalog.vcpus("Standard_D2s_v3")
    catalog.expected_node_agents("canonical", "ubuntu-24_04-lts", "server")
    before = catalog._load.cache_info().currsize
    for _ in range(100):
        catalog.vcpus("Standard_D4s_v3")
        catalog.expected_node_agents("canonical", "ubuntu-24_04-lts", "server")
    assert catalog._load.cache_info().currsize == before


@pytest.mark.parametrize("spelled", [
    "Standard_D2s_v3", "Standard_DS15_v2", "Standard_NC24ads_A100_v4", "Standard_NC4as_T4_v3",
    "Standard_HB120-32rs_v3", "Standard_E64is_v3", "Standard_M128ms", "Standard_F16", "Standard_A8m_v2",
])
def test_vm_size_names_are_spelled_as_azure_does(spelled):
    assert spelled in catalog.vm_size_names()


@pytest.mark.parametrize(("vm_size", "finding"), [
    ("Standard_D2s_v33", ("error", "unknown VM size 'Standard_D2s_v33'; did you mean 'Standard_D2s_v3'?")),
    ("Standard_F8sv2", ("error", "unknown VM size 'Standard_F8sv2'; did you mean 'Standard_F8s_v2'?")),
    ("Standard_E8dsv5", ("error", "unknown VM size 'Standard_E8dsv5'; did you mean 'Standard_E8ds_v5'?")),
    ("Standard_Nope_v9", ("error", "unknown VM size 'Standard_Nope_v9'; (if it is newer")),
    ("Standard_NC6", ("error", "VM size 'Standard_NC6': Azure retired the NC-series on 2023-09-06")),
    ("Standard_NV12s_v3", ("error", "VM size 'Standard_NV12s_v3': Azure retired the NVv3-series on 2026-09-30")),
    ("Standard_D2s_v3", None),
    ("standard_d2s_v3", None),  # case does not matter
])
def test_vm_size_unknown_or_retired_is_an_error(tmp_path, monkeypatch, vm_size, finding):
    from deployer.stack.checks import lifecycle
    from tests.unit.stacks import BASE, mutate, validate_text

    monkeypatch.setattr(lifecycle, "today", lambda: date(2026, 12, 5))
    found = validate_text(tmp_path, mutate("vmSize: Standard_D2s_v3", f"vmSize: {vm_size}"))
    line = next(i for i, text in enumerate(BASE.splitlines(), 1) if "vmSize:" in text)
    if finding is None:
        assert found == []
    else:
        [d] = found
        assert (d.severity, d.line) == (finding[0], line)
        assert d.message.startswith(finding[1]), d.message


def test_allow_unknown_vm_size_on_the_target_accepts_a_size_newer_than_the_catalog(tmp_path):
    from tests.unit.stacks import mutate, validate_text

    text = mutate("vmSize: Standard_D2s_v3", "vmSize: Standard_D2s_v9")
    assert [d.message.split(";")[0] for d in validate_text(tmp_path, text)] == [
        "unknown VM size 'Standard_D2s_v9'"]
    allowed = text.replace("target:\n", "target:\n  allowUnknownVmSize: true\n", 1)
    assert allowed != text
    assert validate_text(tmp_path, allowed) == []
    typo = allowed.replace("Standard_D2s_v9", "Standard_NC6")  # allowing unknown sizes does not allow retired ones
    assert [d.message.split(":")[0] for d in validate_text(tmp_path, typo)] == ["VM size 'Standard_NC6'"]


@pytest.mark.parametrize(("today", "severity"), [
    (date(2022, 11, 1), None),  # more than six months before the end: nothing to say yet
    (date(2023, 1, 1), "warning"),
    (date(2023, 5, 29), "warning"),
    (date(2023, 5, 30), "error"),  # the end itself: Batch no longer takes new pools
    (date(2026, 12, 5), "error"),
])
def test_image_end_of_support_by_date(tmp_path, monkeypatch, today, severity):
    from deployer.stack.checks import lifecycle
    from tests.unit.stacks import mutate, validate_text

    monkeypatch.setattr(lifecycle, "today", lambda: today)
    text = mutate("offer: 0001-com-ubuntu-server-jammy", "offer: UbuntuServer")
    text = mutate("sku: 22_04-lts", "sku: 18.04-LTS", text)
    text = mutate("nodeAgentSkuId: batch.node.ubuntu 22.04", "nodeAgentSkuId: batch.node.ubuntu 18.04", text)
    found = [(d.severity, d.message, d.line) for d in validate_text(tmp_path, text)]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "18.04-LTS" in t)
    if severity is None:
        assert found == []
        return
    [(got, message, at)] = found  # once, at the image: not again at its node agent
    assert (got, at) == (severity, line)
    assert "2023-05-30" in message and "canonical/ubuntu-24_04-lts/server" in message
    assert "batch.node.ubuntu 24.04" in message



def test_tests_judge_lifecycles_on_the_catalogs_own_date():
    from deployer.stack.checks import lifecycle
    from tests.conftest import CATALOG_DAY

    assert lifecycle.today() == CATALOG_DAY == catalog.catalog_date()


def test_the_examples_use_images_with_no_announced_end_of_support():
    """So they stay valid on the day they are read, not only on the catalog's."""
    from pathlib import Path

    from deployer.stack.loader import load_stack_file

    root = Path(__file__).resolve().parents[2]
    for path in [*(root / "stacks").glob("*.yaml"), *(root / "stacks").glob("*.yaml.j2")]:
        variables = {"env": "dev", "target": "local", "subscription": "0", "vm_size": "Standard_D2s_v3",
                     "max_low_priority": 2, "max_dedicated": 0, "scratch_quota_gib": 10}
        data = load_stack_file(path, variables=variables).data
        for account in data.get("batchAccounts", {}).values():
            for pool in account.get("pools", {}).values():
                config = pool["deploymentConfiguration"]["virtualMachineConfiguration"]
                image = config["imageReference"]
                assert catalog.image_lifecycle(image["publisher"], image["offer"], image["sku"]) is None, path
                assert catalog.agent_lifecycle(config["nodeAgentSkuId"]) is None, path

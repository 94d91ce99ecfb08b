"""The shipped VM size and image catalogs, and the lookups the validator builds on them."""

from __future__ import annotations

import json
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
        ("Standard_B2s", None),
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
        ("microsoftwindowsserver", "windowsserver", "2012-r2-datacenter", None),
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
        assert set(entry) <= {"publisher", "offer", "skus", "skuPrefixes", "nodeAgentSkuIds"}, entry
        assert entry["publisher"] and entry["offer"], entry
        assert entry.get("skus") or entry.get("skuPrefixes"), entry
        assert all(agent.startswith("batch.node.") for agent in entry["nodeAgentSkuIds"]), entry


def test_tables_are_read_once():
    catalog.vcpus("Standard_D2s_v3")
    catalog.expected_node_agents("canonical", "ubuntu-24_04-lts", "server")
    before = catalog._load.cache_info().currsize
    for _ in range(100):
        catalog.vcpus("Standard_D4s_v3")
        catalog.expected_node_agents("canonical", "ubuntu-24_04-lts", "server")
    assert catalog._load.cache_info().currsize == before == 2


@pytest.mark.parametrize("spelled", [
    "Standard_D2s_v3", "Standard_DS15_v2", "Standard_NC24ads_A100_v4", "Standard_NC4as_T4_v3",
    "Standard_HB120-32rs_v3", "Standard_E64is_v3", "Standard_M128ms", "Standard_F16", "Standard_A8m_v2",
])
def test_vm_size_names_are_spelled_as_azure_does(spelled):
    assert spelled in catalog.vm_size_names()


@pytest.mark.parametrize(("vm_size", "warning"), [
    ("Standard_D2s_v33", "unknown VM size 'Standard_D2s_v33'; did you mean 'Standard_D2s_v3'?"),
    ("Standard_F8sv2", "unknown VM size 'Standard_F8sv2'; did you mean 'Standard_F8s_v2'?"),
    ("Standard_Nope_v9", None),  # nothing like it: unverified, not wrong — no message
    ("Standard_D2s_v3", None),
    ("standard_d2s_v3", None),  # case does not matter
])
def test_a_vm_size_one_or_two_letters_off_is_a_warning(tmp_path, vm_size, warning):
    from tests.unit.stacks import BASE, mutate, validate_text

    found = validate_text(tmp_path, mutate("vmSize: Standard_D2s_v3", f"vmSize: {vm_size}"))
    messages = [(d.severity, d.message, d.line) for d in found]
    line = next(i for i, text in enumerate(BASE.splitlines(), 1) if "vmSize:" in text)
    assert messages == ([("warning", warning, line)] if warning else [])

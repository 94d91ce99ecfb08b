"""Canonical forms: comparison keys, structural forms, fingerprints and paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployer.resources import normalize as n

# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("PT5M", "00:05:00"),
        ("PT15M", "00:15:00"),
        ("P1DT2H", "1.02:00:00"),
        ("PT90M", "PT1H30M"),
        ("PT300S", "PT5M"),
        ("P1D", "PT24H"),
        ("P1W", "P7D"),
        ("PT0S", "00:00:00"),
        ("PT1.5S", "00:00:01.5"),
        ("PT0.0000001S", "00:00:00.0000001"),
        ("P10675199DT2H48M5.4775807S", "10675199.02:48:05.4775807"),  # TimeSpan.MaxValue
        ("P10675199DT2H48M5.4775807S", "P10675199DT02H48M05.477539S"),  # MaxValue through a timedelta
        ("PT05M00S", "PT5M"),  # how the Azure SDKs write a timedelta
        ("P", "PT0S"),  # ... and timedelta(0)
        ("pt5m", "PT5M"),
        (" PT5M ", "00:05:00"),
    ],
)
def test_durations_in_either_form_are_equal(a: str, b: str) -> None:
    assert n.duration(a) == n.duration(b)


@pytest.mark.parametrize(("a", "b"), [("PT5M", "PT6M"), ("P1D", "1.00:00:01"), ("00:05:00", "00:50:00")])
def test_different_durations_differ(a: str, b: str) -> None:
    assert n.duration(a) != n.duration(b)


@pytest.mark.parametrize("text", ["PT", "P1Y", "5 minutes", "24:00:00", "00:60:00", "", "P1DT", "P1H"])
def test_what_is_not_a_duration_compares_as_written(text: str) -> None:
    assert n.duration(text) == text
    assert n.duration_ticks(text) is None


@pytest.mark.parametrize(("ticks", "text"), [(0, "PT0S"), (3_000_000_000, "PT5M"), (936_000_000_000, "P1DT2H"),
                                             (15_000_000, "PT1.5S")])
def test_format_duration(ticks: int, text: str) -> None:
    assert n.format_duration(ticks) == text
    assert n.duration_ticks(text) == ticks


@given(st.integers(min_value=0, max_value=10**17))
def test_format_duration_round_trips(ticks: int) -> None:
    assert n.duration_ticks(n.format_duration(ticks)) == ticks


# --- other keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "a", "b"),
    [
        (n.ci, "Standard_D2s_v3", "STANDARD_D2S_V3"),
        (n.ci, "spread", "Spread"),
        (n.arm_id, "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
         "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/V/subnets/S/"),
        (n.location, "West Europe", "westeurope"),
        (n.location, "WestEurope", "westeurope"),
        (n.url, "https://acct.file.core.windows.net/share/", "https://ACCT.file.core.windows.net/share"),
        (n.url_without_query, "https://a.blob.core.windows.net/c?sv=1&sig=x", "https://a.blob.core.windows.net/c"),
        (n.datetime_key, "2025-01-01T00:00:00Z", "2025-01-01T01:00:00.0000000+01:00"),
        (n.datetime_key, "2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00.5000000Z"),
        (n.datetime_key, "2025-01-01T00:00Z", "2025-01-01T00:00:00Z"),
    ],
)
def test_keys_that_make_spellings_equal(key: n.Key, a: str, b: str) -> None:
    assert key(a) == key(b)


def test_datetime_keys_keep_ticks() -> None:
    assert n.datetime_key("2025-01-01T00:00:00.0000001Z") != n.datetime_key("2025-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("$TargetDedicatedNodes=1", "$TargetDedicatedNodes = 1;"),
        ("$a = 1;\r\n$TargetDedicatedNodes = $a;\r\n", "$a = 1;\n$TargetDedicatedNodes = $a;"),
        ("$TargetDedicatedNodes =\n    min(4,\n        2);", "$TargetDedicatedNodes = min(4, 2);"),
        ("  $TargetDedicatedNodes\t=\t1  ;  ", "$TargetDedicatedNodes=1"),
    ],
)
def test_formulas_compare_modulo_layout(a: str, b: str) -> None:
    assert n.formula(a) == n.formula(b)


def test_formula_changes_are_changes() -> None:
    assert n.formula("$TargetDedicatedNodes = 1;") != n.formula("$TargetDedicatedNodes = 2;")
    assert n.formula("// one\n$TargetDedicatedNodes = 1;") != n.formula("// two\n$TargetDedicatedNodes = 1;")


# --- structural forms -------------------------------------------------------------------------------


def test_name_value_lists_become_maps_whatever_their_order() -> None:
    first = n.name_value_map([{"name": "a", "value": "1"}, {"name": "b", "value": "2"}])
    second = n.name_value_map([{"name": "b", "value": "2"}, {"name": "a", "value": "1"}])
    assert first == second == {"a": "1", "b": "2"}
    assert n.name_value_map({"a": "1"}) == {"a": "1"}


def test_keyed_lists_become_maps() -> None:
    form = n.keyed_by(n.field_key("lun"))
    assert form([{"lun": 1, "diskSizeGB": 2}, {"lun": 0, "diskSizeGB": 1}]) == {
        "1": {"lun": 1, "diskSizeGB": 2}, "0": {"lun": 0, "diskSizeGB": 1}}
    assert form([{"diskSizeGB": 1}]) == {"#0": {"diskSizeGB": 1}}


def test_id_sets_from_maps_and_lists() -> None:
    ids = {"/subscriptions/x/b": {"clientId": "c"}, "/subscriptions/x/A": {}}
    assert n.id_set(ids) == ["/subscriptions/x/A", "/subscriptions/x/b"]
    assert n.id_set(["/subscriptions/x/b", "/SUBSCRIPTIONS/X/B"]) == ["/SUBSCRIPTIONS/X/B"]


def test_prune_drops_nulls_and_empties() -> None:
    assert n.prune({"a": None, "b": {}, "c": [], "d": {"e": None}, "f": 0, "g": ""}) == {"f": 0, "g": ""}
    assert n.prune({"a": None}) is n.MISSING


# --- markers and display ----------------------------------------------------------------------------


def test_secrets_never_show_their_value() -> None:
    secret = n.Secret("env:PASSWORD", "hunter2")
    assert "hunter2" not in repr(secret)
    assert n.display({"password": secret, "list": [secret]}) == {"password": n.SENSITIVE, "list": [n.SENSITIVE]}
    assert n.display(n.Fingerprint("pbkdf2-sha256$1$a$b")) == n.SENSITIVE
    assert n.display(n.Unknown("id")) == n.KNOWN_AFTER_APPLY


# --- fingerprints -----------------------------------------------------------------------------------


def test_a_fingerprint_matches_its_value_only() -> None:
    recorded = n.fingerprint("correct horse battery staple")
    assert n.fingerprint_matches("correct horse battery staple", recorded)
    assert not n.fingerprint_matches("correct horse battery stapler", recorded)
    assert not n.fingerprint_matches("", recorded)


def test_fingerprints_leak_nothing_useful() -> None:
    value = "s3cret-storage-key=="
    first, second = n.fingerprint(value), n.fingerprint(value)
    assert first != second  # a random salt per write: equal secrets do not look equal
    assert value not in first and "s3cret" not in first
    assert first.startswith("pbkdf2-sha256$")
    assert int(first.split("$")[1]) >= 10_000  # stretched
    assert len(first) < 256  # fits an ARM tag value


def test_fingerprints_of_structured_values_use_canonical_json() -> None:
    recorded = n.fingerprint([{"b": 1, "a": 2}])
    assert n.fingerprint_matches([{"a": 2, "b": 1}], recorded)


@pytest.mark.parametrize(
    "recorded",
    ["", "garbage", "pbkdf2-sha256$x$a$b", "md5$1$a$b", "pbkdf2-sha256$0$AAAA$AAAA",
     "pbkdf2-sha256$100$!!$AAAA", "pbkdf2-sha256$99999999999$AAAA$AAAA"],
)
def test_malformed_fingerprints_match_nothing(recorded: str) -> None:
    assert not n.fingerprint_matches("value", recorded)


def test_fingerprint_iterations_travel_with_the_fingerprint() -> None:
    recorded = n.fingerprint("v", iterations=1_000)
    assert n.fingerprint_matches("v", recorded)


# --- paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        (("metadata", "team"), "metadata.team"),
        (("metadata", "a.b"), 'metadata["a.b"]'),
        (("mountConfiguration", "mnt/data", "cifsMountConfiguration", "password"),
         'mountConfiguration["mnt/data"].cifsMountConfiguration.password'),
        (("resourceFiles", 0, "httpUrl"), "resourceFiles[0].httpUrl"),
        (("dataDisks", "1"), 'dataDisks["1"]'),
        (("tags", 'quote"d'), 'tags["quote\\"d"]'),
    ],
)
def test_paths_format_and_parse(parts: tuple[str | int, ...], text: str) -> None:
    assert n.format_path(parts) == text
    assert n.parse_path(text) == parts


@pytest.mark.parametrize("text", ["", ".a", "a..b", "a[", "a[x]", 'a["x"'])
def test_bad_paths_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        n.parse_path(text)


@given(st.lists(st.one_of(st.text(min_size=1, max_size=8), st.integers(min_value=0, max_value=99)),
                min_size=1, max_size=5).filter(lambda parts: isinstance(parts[0], str)))
def test_any_path_round_trips(parts: list[str | int]) -> None:
    assert n.parse_path(n.format_path(parts)) == tuple(parts)

"""SAS URLs are secrets: refused in clear (naming the field), accepted as `{secret: …}`, and a
signature never shown by a plan even when Azure returns it on the live side."""

from __future__ import annotations

import pytest

from deployer.resources.normalize import display, redact_sas
from tests.unit.stacks import mutate, validate_text

T1 = "          - id: t1\n            commandLine: echo one\n"
SAS = "https://st.blob.core.windows.net/c/a.sh?sv=2024-08-04&se=2030-01-01&sp=r&sig=AbC%2Bd3f"


@pytest.mark.parametrize(("field", "entry"), [
    ("httpUrl", "            resourceFiles:\n              - {httpUrl: '%s', filePath: a.sh}\n"),
    ("storageContainerUrl", "            resourceFiles:\n              - {storageContainerUrl: '%s'}\n"),
    ("containerUrl", "            outputFiles:\n              - filePattern: '*.log'\n"
                     "                destination: {container: {containerUrl: '%s'}}\n"
                     "                uploadOptions: {uploadCondition: taskCompletion}\n"),
])
def test_a_literal_sas_is_an_error_naming_the_field_and_a_reference_is_accepted(tmp_path, field, entry):
    text = mutate(T1, T1 + entry % SAS)
    [found] = validate_text(tmp_path, text)
    assert found.message.startswith(f"{field} holds a SAS token (sig=) in clear")
    assert SAS not in found.format() and "AbC" not in found.format()
    assert field in text.splitlines()[found.line - 1]
    plain = text.replace(SAS, SAS.split("?")[0])  # no SAS: fine to read (public or an identity), not to write
    left = [d.message for d in validate_text(tmp_path, plain)]
    if field == "containerUrl":
        [message] = left
        assert message.startswith("this output file destination has no credential")
    else:
        assert left == []
    secret = text.replace(f"'{SAS}'", "{secret: env:SAS_URL}")
    assert validate_text(tmp_path, secret) == []


def test_a_url_field_takes_only_a_url_or_a_reference(tmp_path):
    text = mutate(T1, T1 + "            resourceFiles:\n              - {httpUrl: ftp://x/a.sh, filePath: a.sh}\n")
    [found] = validate_text(tmp_path, text)
    assert found.message == ("expected a URL starting with https:// or a secret reference such as "
                             "{secret: env:NAME}")


@pytest.mark.parametrize(("text", "shown"), [
    (SAS, SAS.replace("sig=AbC%2Bd3f", "sig=(sensitive)")),
    ("https://x/c?SIG=abc&sp=r", "https://x/c?SIG=(sensitive)&sp=r"),
    ("https://x/c?sp=r", "https://x/c?sp=r"),
    ("design=1", "design=1"),  # `sig=` only as a query parameter
])
def test_redact_sas(text, shown):
    assert redact_sas(text) == shown
    assert display({"resourceFiles": [{"httpUrl": text}]}) == {"resourceFiles": [{"httpUrl": shown}]}

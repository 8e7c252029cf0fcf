"""botocore's data loaded for less CPU (chalicelib/botocore_files.py): the same data,
in the same order, and the same errors as botocore's own loader."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import create_loader

from chalicelib import botocore_files

SERVICES = ("dynamodb", "sns", "sqs", "kms")  # every service the app calls


def same(one: object, other: object) -> bool:
    """Equal, and in the same order (an OrderedDict equals a dict in any order)."""
    return json.dumps(one) == json.dumps(other) and one == other


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "paginators-1"])
def test_a_service_model_is_botocores(service: str, type_name: str) -> None:
    botocores, ours = create_loader(), botocore_files.create_loader()
    assert isinstance(ours, botocore_files.DataLoader)
    assert ours.search_paths == botocores.search_paths

    assert same(
        ours.load_service_model(service, type_name),
        botocores.load_service_model(service, type_name),
    )


@pytest.mark.parametrize("name", ["endpoints", "partitions", "sdk-default-configuration"])
def test_botocores_own_data_files_are_botocores(name: str) -> None:
    assert same(botocore_files.create_loader().load_data(name), create_loader().load_data(name))


def test_a_given_version_and_an_unknown_service_are_answered_as_botocore_does() -> None:
    botocores, ours = create_loader(), botocore_files.create_loader()
    assert same(
        ours.load_service_model("dynamodb", "endpoint-rule-set-1", "2011-12-05"),
        botocores.load_service_model("dynamodb", "endpoint-rule-set-1", "2011-12-05"),
    )
    with pytest.raises(UnknownServiceError) as theirs:
        botocores.load_service_model("no-such-service", "service-2")
    with pytest.raises(UnknownServiceError) as raised:
        ours.load_service_model("no-such-service", "service-2")
    assert str(raised.value) == str(theirs.value)
    with pytest.raises(UnknownServiceError):  # a service without that type of file
        ours.load_service_model("dynamodb", "waiters-9")

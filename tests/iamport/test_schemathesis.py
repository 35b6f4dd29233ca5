"""Property-based requests generated from the official spec (schemathesis) against the sandbox.

Every generated request must get a documented status, never a 5xx, and a
reply that validates against the spec (tests/spec_contract.py).
"""

from __future__ import annotations

import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from tests.helpers import Sandbox
from tests.spec_contract import spec, validate_response

OPERATIONS = ["getToken", "getPaymentsByStatus", "getPaymentByImpUid", "getPaymentListByImpUid",
              "getPaymentByMerchantUid", "cancelPayment", "createVbank", "modifyVbank", "revokeVbank",
              "queryBankHolder", "allBankCodes"]


def _numbers(node):
    """The spec writes some numeric keywords as strings; schemathesis needs numbers (file stays untouched)."""
    if isinstance(node, dict):
        return {k: (int(v) if k in ("maxLength", "minLength", "maximum", "minimum") and isinstance(v, str)
                    else _numbers(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_numbers(x) for x in node]
    return node


schema = schemathesis.openapi.from_dict(_numbers(copy.deepcopy(spec()))).include(operation_id=OPERATIONS)
# Valid requests only (the spec's own shapes), deterministic so CI sees the same cases every run.
schema.config.generation.update(modes=[GenerationMode.POSITIVE], deterministic=True, allow_x00=False,
                                with_security_parameters=False)


@pytest.fixture(scope="module")
def fuzz_sandbox():
    sb = Sandbox(payments=300, seed=11)
    yield sb
    sb.stop()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_sandbox_follows_the_spec(case, fuzz_sandbox):
    headers = {} if case.operation.definition.raw.get("operationId") == "getToken" else \
        {"Authorization": fuzz_sandbox.token()}
    response = case.call(base_url=fuzz_sandbox.url, headers=headers)
    assert response.status_code < 500, response.text
    path = response.request.path_url.split("?")[0]
    validate_response(case.method.upper(), path, response.status_code, response.json())

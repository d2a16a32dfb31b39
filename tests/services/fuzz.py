"""schemathesis against a live service: every operation of its OpenAPI document, valid and
invalid generated requests, bounded examples (test helper)."""

from __future__ import annotations

from typing import Any


def fuzz_service(url: str, *, max_examples: int = 25, headers: dict[str, str] | None = None) -> int:
    """Run schemathesis on every operation of `url`'s /openapi.json; return the requests made.

    Checks: no 5xx, only documented status codes, the declared content type and response
    schema. Raises on the first failure (schemathesis reports the request that failed)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operation"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=url, headers=headers, checks=checks, timeout=60)

            try:
                run()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise  # an operation no valid request reaches
                # nothing invalid to send (an operation without parameters)
    return calls

"""The one exclusion the schemathesis run makes: a schema-valid request refused only for a rule
JSON Schema cannot express. The built-in `positive_data_acceptance` check is replaced by this
one, which is the same check except that a 400 problem whose every error is one of RULES passes.
Any other refusal of schema-valid data still fails the run. Loaded with SCHEMATHESIS_HOOKS.
"""

import json

import schemathesis
from schemathesis.specs.openapi.checks import _openapi_positive_data_acceptance

# (field, the start of the server's message): each a rule an operation's description states.
RULES = (
    # POST /api/v1/messages and each item of /batch: a time that must be in the future.
    ("expires_at", "must be in the future"),
    # ... and one bound after another.
    ("expires_at", "must be after send_at"),
    # POST /api/v1/messages/retry: one bound after another.
    ("failed_before", "must be later than failed_after"),
    # POST /api/v1/messages/batch: a key unique within the batch (uniqueItems compares whole
    # items, not one field of them). The message names the earlier item.
    ("idempotency_key", "repeats the key of item "),
)


def _is_rule(error) -> bool:
    field, message = error.get("field"), error.get("message") or ""
    return any(field == f and (message == m or (m.endswith(" ") and message.startswith(m))) for f, m in RULES)


def _only_rules(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        errors = json.loads(response.content).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return bool(errors) and all(_is_rule(e) for e in errors)


@schemathesis.check
def positive_data_accepted_unless_a_cross_field_rule(ctx, response, case):
    """Schema-valid data is accepted, unless refused by one of RULES only."""
    try:
        return _openapi_positive_data_acceptance(ctx, response, case)
    except AssertionError:
        if _only_rules(response):
            return None
        raise

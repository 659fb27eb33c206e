"""The rule engine's grouping: the same problem gets the same fingerprint in every session, and plain-word names."""
from __future__ import annotations

from patterns.fingerprint import fingerprint, mask_message, request_identity, status_class
from patterns.rule_names import rule_description, rule_name


def flagged(kind: str, exception: str | None = "blocking", **problem) -> dict:
    """A flagged key action carrying problem facts."""
    facts = {"kind": kind, "route": "", "control": "", "request": "", "status": None, "message": ""}
    facts.update(problem)
    return {"event": kind, "exception": exception, "abandonment": exception == "blocking", "confusion": False,
            "problem": facts}


def test_variable_parts_of_messages_are_masked():
    assert mask_message("User ann@shop.test not found") == "User <email> not found"
    assert mask_message("GET https://api.shop.test/v2/orders?id=5 failed") == "GET <url> failed"
    assert mask_message("order 4f9a2c1e-77aa-4c1d-9a0b-1234567890ab missing") == "order <uuid> missing"
    assert mask_message("Order #10423 failed after 3.5 s") == "Order #<num> failed after <duration>"
    assert mask_message("ref deadbeef42 on 2026-11-30T10:15:00Z") == "ref <hex> on <date>"
    assert mask_message("key ord_8f3k2 rejected") == "key <id> rejected"
    assert mask_message("filter name='Ann' failed") == "filter name=<value> failed"
    assert mask_message("  Payment   failed. ") == "Payment failed."


def test_status_classes_and_request_templates():
    assert (status_class(500), status_class(503), status_class(404), status_class(0), status_class(None)) == (
        "5xx", "5xx", "4xx", "network error", "")
    assert request_identity("POST https://shop.test/api/orders/1024/pay?x=1") == "POST /api/orders/:id/pay"
    assert request_identity("/api/checkout/pay") == "/api/checkout/pay"


def test_the_same_failure_in_two_sessions_is_one_fingerprint():
    one = flagged("request_failed", route="/checkout", control="form:checkout-form", request="POST /api/orders/17/pay",
                  status=500, message="Order 17 could not be paid")
    two = flagged("request_failed", route="/cart", control="button:Pay now", request="POST /api/orders/98/pay",
                  status=503, message="Order 98 could not be paid")
    assert fingerprint(one).key == fingerprint(two).key  # a failing endpoint is the same problem from any page
    other_status = flagged("request_failed", request="POST /api/orders/17/pay", status=404,
                           message="Order 17 could not be paid")
    assert fingerprint(other_status).key != fingerprint(one).key
    worked_around = flagged("request_failed", exception="non-blocking", request="POST /api/orders/5/pay", status=500,
                            message="Order 5 could not be paid")
    assert fingerprint(worked_around).key != fingerprint(one).key  # blocking and non-blocking are separate patterns
    assert fingerprint(worked_around).request == "POST /api/orders/:id/pay"


def test_a_dead_control_is_identified_by_the_control_and_its_page():
    product = flagged("dead_click", exception=None, route="/product/:id", control="button:Add to cart")
    product["confusion"] = True
    same = dict(product, problem=dict(product["problem"], route="/product/:id"))
    other_page = dict(product, problem=dict(product["problem"], route="/wishlist"))
    other_control = dict(product, problem=dict(product["problem"], control="button:Buy now"))
    assert fingerprint(product).key == fingerprint(same).key
    assert fingerprint(product).key != fingerprint(other_page).key
    assert fingerprint(product).key != fingerprint(other_control).key
    assert fingerprint(product).flag == "confusion"


def test_slow_loading_is_one_symptom_whatever_the_page():
    a = flagged("slow", exception="non-blocking", route="/", control="a:Home")
    b = flagged("slow", exception="non-blocking", route="/search", control="form:search-form")
    assert fingerprint(a).key == fingerprint(b).key


def test_unflagged_actions_have_no_fingerprint():
    assert fingerprint({"exception": None, "abandonment": False, "confusion": False, "problem": None}) is None


def test_names_are_three_to_six_plain_words_and_descriptions_say_rule_based():
    cases = [
        flagged("request_failed", request="POST /api/checkout/pay", status=500, route="/checkout"),
        flagged("dead_click", route="/product/:id", control="button:Add to cart"),
        flagged("error_text", route="/checkout", control="form:checkout-form",
                message="Please check your details and try again later"),
        flagged("slow", exception="non-blocking"),
        flagged("exception", message="TypeError: cannot read properties of undefined (reading 'total')"),
        flagged("something_new", route="/x"),
    ]
    for action in cases:
        fp = fingerprint(action)
        name = rule_name(fp)
        assert 3 <= len(name.split()) <= 6, name
        assert rule_description(fp, ["/checkout"], []).startswith("Rule-based:")
    assert rule_name(fingerprint(cases[0])) == "Checkout pay request fails (5xx)"
    assert rule_name(fingerprint(cases[1])) == '"Add to cart" button does nothing'

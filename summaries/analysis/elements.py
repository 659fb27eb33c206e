"""What a user interacted with: the clicked element from posthog-js `$elements` / `$elements_chain`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 60
# Attributes UI kits keep a control's hover text in (a tooltip is what people read on an icon button).
TOOLTIP_ATTRS = ("data-tooltip", "data-original-title", "data-bs-original-title", "data-title", "data-tip")

# `tag.class1.class2:attr="value"attr2="value"` per element, elements joined by ';' (clicked element first).
_CHAIN_ELEMENT = re.compile(r'^(?P<tag>[^.:]*)(?P<classes>(?:\.[^.:]+)*):?(?P<attrs>.*)$')
_CHAIN_ATTR = re.compile(r'(?P<key>[\w\-$]+)="(?P<value>(?:\\.|[^"\\])*)"')


@dataclass(frozen=True)
class Element:
    """One element of an autocapture chain."""

    tag: str
    text: str = ""
    href: str = ""
    element_id: str = ""
    name: str = ""
    input_type: str = ""
    classes: tuple[str, ...] = ()
    aria_label: str = ""
    title: str = ""
    role: str = ""
    tooltip: str = ""


def _split_chain(chain: str) -> list[str]:
    """Split an elements chain on ';' outside quoted values."""
    parts, buf, quoted, escaped = [], [], False, False
    for ch in chain:
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\":
            buf.append(ch)
            escaped = True
        elif ch == '"':
            buf.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if buf:
        parts.append("".join(buf))
    return parts


def parse_elements_chain(chain: str) -> list[Element]:
    """Elements of a `$elements_chain` string, clicked element first."""
    elements = []
    for raw in _split_chain(chain or ""):
        m = _CHAIN_ELEMENT.match(raw)
        if not m:
            continue
        attrs = {a.group("key"): a.group("value").replace('\\"', '"') for a in _CHAIN_ATTR.finditer(m.group("attrs"))}
        classes = tuple(c for c in m.group("classes").split(".") if c)
        elements.append(
            Element(
                tag=m.group("tag").lower(),
                text=attrs.get("text", ""),
                href=attrs.get("href", "") or attrs.get("attr__href", ""),
                element_id=attrs.get("attr_id", "") or attrs.get("attr__id", ""),
                name=attrs.get("attr__name", ""),
                input_type=attrs.get("attr__type", ""),
                classes=classes,
                aria_label=attrs.get("attr__aria-label", ""),
                title=attrs.get("attr__title", ""),
                role=attrs.get("attr__role", ""),
                tooltip=next((attrs[f"attr__{k}"] for k in TOOLTIP_ATTRS if attrs.get(f"attr__{k}")), ""),
            )
        )
    return elements


def parse_elements_list(items: list[dict[str, Any]]) -> list[Element]:
    """Elements of a `$elements` list (posthog-js's default shape), clicked element first."""
    elements = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        classes = item.get("attr__class") or item.get("classes") or ""
        if isinstance(classes, str):
            classes = classes.split()
        elements.append(
            Element(
                tag=str(item.get("tag_name") or "").lower(),
                text=str(item.get("$el_text") or item.get("text") or ""),
                href=str(item.get("attr__href") or item.get("href") or ""),
                element_id=str(item.get("attr__id") or item.get("attr_id") or ""),
                name=str(item.get("attr__name") or ""),
                input_type=str(item.get("attr__type") or ""),
                classes=tuple(str(c) for c in classes),
                aria_label=str(item.get("attr__aria-label") or ""),
                title=str(item.get("attr__title") or ""),
                role=str(item.get("attr__role") or ""),
                tooltip=str(next((item[f"attr__{k}"] for k in TOOLTIP_ATTRS if item.get(f"attr__{k}")), "")),
            )
        )
    return elements


def event_elements(properties: dict[str, Any]) -> list[Element]:
    """The element chain of an autocapture / rageclick / dead click event, whichever shape it came in."""
    if properties.get("$elements"):
        return parse_elements_list(properties["$elements"])
    if properties.get("$elements_chain"):
        return parse_elements_chain(str(properties["$elements_chain"]))
    return []


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """Whitespace-collapsed text cut to a limit."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


INTERACTIVE_TAGS = ("button", "a", "input", "select", "textarea", "label", "form", "option", "summary")
INTERACTIVE_ROLES = ("button", "link", "menuitem", "tab", "checkbox", "switch", "option", "radio")


def has_words(text: str) -> bool:
    """True when a label has letters or digits (a lone glyph like "✎", "🗑" or "⋯" names nothing)."""
    return any(ch.isalnum() for ch in text or "")


def control_name(target: Element, text: str) -> str:
    """The name people recognise: aria-label, title or tooltip, visible text (never a lone glyph), then id or name."""
    for candidate in (target.aria_label, target.title, target.tooltip, text):
        if candidate and has_words(candidate):
            return clip(candidate)
    return clip(target.element_id or target.name or "")


def target_of(elements: list[Element], el_text: str = "") -> tuple[str, str, str]:
    """(kind, label, href) of the thing the user interacted with: the nearest interactive ancestor."""
    if not elements:
        return "", clip(el_text) if has_words(el_text) else "", ""
    target = next((e for e in elements[:6] if e.tag in INTERACTIVE_TAGS or e.role in INTERACTIVE_ROLES), elements[0])
    text = el_text or target.text or next((e.text for e in elements[:3] if e.text), "")
    label = control_name(target, text)
    if not label and target.classes:
        label = "." + target.classes[0]
    kind = target.tag
    if target.tag == "input" and target.input_type:
        kind = f"input[{target.input_type}]"
    href = target.href or next((e.href for e in elements[:6] if e.href), "")
    return kind, clip(label), href


def form_of(elements: list[Element]) -> str:
    """A key for the form the element sits in (its id, name or first class); "" outside forms."""
    form = next((e for e in elements if e.tag == "form" or e.role == "form"), None)
    if form is None:
        return ""
    return form.element_id or form.name or form.aria_label or (form.classes[0] if form.classes else "form")


def describe_target(properties: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, label, href) for an event's target element."""
    return target_of(event_elements(properties), str(properties.get("$el_text") or ""))

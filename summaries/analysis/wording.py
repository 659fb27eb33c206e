"""Supporting words in English, German, French, Spanish and Portuguese: never evidence on their own.

Verdicts rest on what holds in any app and language (requests and their status, DOM reactions, ARIA roles
and states, URL changes). These lists only tip the balance where that evidence leaves a text's tone open, and
CSS class tokens (which stay English in most code bases) are read the same way.
"""
from __future__ import annotations

import re
from functools import lru_cache

ERROR_WORDS = re.compile(
    r"\b(error|errors|failed|failure|fails|unable to|cannot|can't|could not|couldn't|invalid|declined|denied|"
    r"went wrong|timed out|unavailable|not allowed|rejected|please (check|correct|verify|enter|fill)|"
    # de
    r"fehler|fehlgeschlagen|ungültig|ungueltig|nicht möglich|konnte nicht|konnten nicht|abgelehnt|"
    r"nicht gespeichert|nicht verfügbar|zeitüberschreitung|bitte (überprüfen|prüfen|korrigieren|geben sie)|"
    # fr
    r"erreur|échec|echec|échoué|impossible de|invalide|refusé|refusée|veuillez (vérifier|corriger|saisir)|"
    # es
    r"fallido|falló|fallo|no se pudo|inválido|inválida|rechazado|rechazada|por favor,? (verifique|corrija|introduzca)|"
    # pt
    r"erro|falhou|falha|não foi possível|inválido|inválida|recusado|recusada|por favor,? (verifique|corrija|insira))\b",
    re.IGNORECASE,
)
SUCCESS_WORDS = re.compile(
    r"\b(saved|success|successful|successfully|added|created|updated|deleted|sent|confirmed|thank you|thanks|"
    r"done|completed|"
    # de
    r"gespeichert|erfolgreich|hinzugefügt|erstellt|angelegt|aktualisiert|gelöscht|gesendet|bestätigt|danke|"
    r"abgeschlossen|"
    # fr
    r"enregistré|enregistrée|réussi|réussie|ajouté|ajoutée|créé|créée|mis à jour|envoyé|merci|"
    # es
    r"guardado|guardada|éxito|exitoso|añadido|agregado|creado|creada|actualizado|enviado|gracias|"
    # pt
    r"salvo|salva|sucesso|adicionado|criado|criada|atualizado|enviado|obrigado|obrigada)\b",
    re.IGNORECASE,
)
LOADING_WORDS = re.compile(
    r"^\W*(loading|please wait|fetching|wird geladen|lädt|bitte warten|chargement|veuillez patienter|"
    r"cargando|espere|carregando|aguarde)\b",
    re.IGNORECASE,
)
# Class tokens (split on non-letters) that name a message's tone or a loading state.
ERROR_CLASSES = frozenset({"error", "errors", "danger", "invalid", "failure", "failed", "fail", "negative",
                           "critical"})
SUCCESS_CLASSES = frozenset({"success", "ok", "saved", "positive", "confirmation", "confirmed"})
LOADING_CLASSES = frozenset({"spinner", "loading", "loader", "skeleton", "busy", "throbber", "shimmer"})
# Class names that hide an element in most CSS frameworks.
HIDING_CLASSES = frozenset({"hidden", "is-hidden", "d-none", "invisible", "hide", "is-invisible"})
TOAST_CLASSES = frozenset({"toast", "toaster", "snackbar", "notification", "notice", "flash", "alert", "callout",
                           "banner"})


@lru_cache(maxsize=8192)
def class_tokens(value: str) -> frozenset[str]:
    """The words of a class attribute: `btn toast--error is-visible` -> {btn, toast, error, is, visible}."""
    return frozenset(t for t in re.split(r"[^a-z]+", (value or "").lower()) if t)


def reads_as_error(text: str) -> bool:
    """Supporting evidence that a text reports a failure."""
    return bool(ERROR_WORDS.search(text))


def reads_as_success(text: str) -> bool:
    """Supporting evidence that a text confirms something worked (and does not also read as a failure)."""
    return bool(SUCCESS_WORDS.search(text)) and not ERROR_WORDS.search(text)


def reads_as_loading(text: str) -> bool:
    """Supporting evidence that a short text is a loading indicator."""
    return len(text) <= 60 and bool(LOADING_WORDS.search(text))


def words(text: str) -> set[str]:
    """Lower-case words of a text (letters and digits, any script), for comparing control names."""
    return {w for w in re.findall(r"\w+", (text or "").lower()) if len(w) > 1 and not w.isdigit()}

"""What the widget says, in Danish and English; the visitor's language by parameter or Accept-Language."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("da", "en")

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Tell us what your company needs",
        "intro": (
            "Describe a challenge in your production. The cluster's staff look for technology providers that can help."
        ),
        "name": "Your name",
        "email": "Your e-mail",
        "company": "Company",
        "need_title": "What do you need? (one line)",
        "description": "Describe the challenge",
        "description_hint": "What you make, what goes wrong or takes too long, what you have tried.",
        "honeypot": "Leave this field empty",
        "send": "Send",
        "required": "required",
        "sent_title": "Thank you, we have received your need",
        "next_1": "The cluster's curators read every need within a few working days.",
        "next_2": "They look for technology providers that fit and may ask you for details.",
        "next_3": (
            "You will be contacted by e-mail, usually within two weeks. "
            "Nothing is shared with providers before you agree."
        ),
        "another": "Send another need",
        "error_missing_key": "This form is not set up correctly (its key is missing). Please tell the website's owner.",
        "error_key": "This form is not set up correctly (its key is not valid). Please tell the website's owner.",
        "error_origin": "This form may not be used on this website.",
        "error_spam": "The form could not be sent. Please reload the page and try again.",
        "error_too_fast": "That was very fast. Please check your text and send it again.",
        "error_expired": "The form had been open too long. Please check your text and send it again.",
        "error_rate": "Too many needs have been sent from here just now. Please try again in {minutes} minutes.",
        "error_busy": "The service is starting up. Please try again in a minute.",
        "error_fields": "Please correct the marked fields.",
        "invalid_name": "Please give your name.",
        "invalid_email": "Please give an e-mail address such as name@company.dk.",
        "invalid_company": "Please give your company's name.",
        "invalid_need_title": "Please describe your need in one line (at most 300 characters).",
        "invalid_description": "The description is too long.",
    },
    "da": {
        "title": "Fortæl os, hvad jeres virksomhed har brug for",
        "intro": (
            "Beskriv en udfordring i jeres produktion. "
            "Klyngens medarbejdere finder teknologileverandører, der kan hjælpe."
        ),
        "name": "Dit navn",
        "email": "Din e-mail",
        "company": "Virksomhed",
        "need_title": "Hvad har I brug for? (én linje)",
        "description": "Beskriv udfordringen",
        "description_hint": "Hvad I laver, hvad der går galt eller tager for lang tid, hvad I har prøvet.",
        "honeypot": "Lad dette felt være tomt",
        "send": "Send",
        "required": "skal udfyldes",
        "sent_title": "Tak, vi har modtaget jeres behov",
        "next_1": "Klyngens kuratorer læser alle behov inden for nogle få arbejdsdage.",
        "next_2": "De finder teknologileverandører, der passer, og spørger måske om flere detaljer.",
        "next_3": (
            "I bliver kontaktet på e-mail, som regel inden for to uger. Intet deles med leverandører, før I siger ja."
        ),
        "another": "Send et behov mere",
        "error_missing_key": "Formularen er ikke sat rigtigt op (nøglen mangler). Sig det til hjemmesidens ejer.",
        "error_key": "Formularen er ikke sat rigtigt op (nøglen er ikke gyldig). Sig det til hjemmesidens ejer.",
        "error_origin": "Formularen må ikke bruges på denne hjemmeside.",
        "error_spam": "Formularen kunne ikke sendes. Genindlæs siden og prøv igen.",
        "error_too_fast": "Det gik meget hurtigt. Tjek teksten og send den igen.",
        "error_expired": "Formularen har været åben for længe. Tjek teksten og send den igen.",
        "error_rate": "Der er sendt for mange behov herfra lige nu. Prøv igen om {minutes} minutter.",
        "error_busy": "Tjenesten starter op. Prøv igen om et minut.",
        "error_fields": "Ret venligst de markerede felter.",
        "invalid_name": "Skriv dit navn.",
        "invalid_email": "Skriv en e-mailadresse som navn@firma.dk.",
        "invalid_company": "Skriv virksomhedens navn.",
        "invalid_need_title": "Beskriv jeres behov på én linje (højst 300 tegn).",
        "invalid_description": "Beskrivelsen er for lang.",
    },
}


def choose_language(requested: str | None, accept_language: str | None) -> str:
    """`requested` when we speak it, else the first of Accept-Language we speak (by its q order), else English."""
    if requested in LANGUAGES:
        return requested
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()[:2]))
    for _, _, language in sorted(ranked):
        if language in LANGUAGES:
            return language
    return "en"

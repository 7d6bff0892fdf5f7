"""Values that look real for a property, guessed from its name ("city" → "Paris").

These are suggestions only: the faker checks each against the property's schema and falls
back to a constraint-driven value when a suggestion does not fit.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

CITIES = (
    "Paris", "London", "Tokyo", "San Francisco, CA", "New York, NY", "Berlin", "Sydney", "Toronto",
    "Madrid", "Seoul", "Boston, MA", "Amsterdam", "Lisbon", "Singapore", "Chicago, IL", "Mumbai",
)  # fmt: skip
COUNTRIES = ("France", "Japan", "United States", "Germany", "Brazil", "Canada", "India", "Spain", "Australia")
FIRST = ("Alice", "Bob", "Carmen", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "James", "Lena", "Marco")
LAST = ("Smith", "Garcia", "Tanaka", "Müller", "Rossi", "Dubois", "Johnson", "Kowalski", "Silva", "Nguyen")
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella Labs", "Stark Industries", "Northwind Traders")
STREETS = ("Main St", "Oak Avenue", "Baker Street", "Rue de Rivoli", "Elm Road", "Market St")
WORDS = (
    "alpha", "report", "summary", "project", "update", "blue", "quick", "meeting", "budget", "review",
    "design", "draft", "notes", "plan", "river", "garden", "coffee", "travel", "launch", "sample",
)  # fmt: skip
SENTENCES = (
    "What is the weather like today?",
    "Find the best Italian restaurants nearby.",
    "Summarise the quarterly sales report.",
    "A short walk through the old town.",
    "Book a table for two at seven.",
    "How do I reset my password?",
    "Latest news about renewable energy.",
)
TITLES = ("Team sync", "Quarterly review", "Project kickoff", "Dentist appointment", "Weekly planning")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD")
LANGUAGES = ("en", "fr", "de", "es", "ja", "pt")
COLORS = ("red", "blue", "green", "black", "white", "orange")
DOMAINS = ("example.com", "mail.example.org", "acme.io", "example.net")
_PERSONISH = frozenset({"name", "full", "display", "person", "customer", "contact", "user", "author", "owner"})
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def tokens(name: str) -> list[str]:
    """``"firstName"`` / ``"first_name"`` / ``"first-name"`` → ``["first", "name"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def when(rng: random.Random) -> datetime:
    return _EPOCH + timedelta(days=rng.randrange(730), minutes=rng.randrange(24 * 60))


def date_time(rng: random.Random) -> str:
    return when(rng).strftime("%Y-%m-%dT%H:%M:%SZ")


def date(rng: random.Random) -> str:
    return when(rng).strftime("%Y-%m-%d")


def time(rng: random.Random) -> str:
    return when(rng).strftime("%H:%M:%SZ")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower().replace('ü', 'u')}@{rng.choice(DOMAINS)}"


def url(rng: random.Random) -> str:
    return f"https://{rng.choice(DOMAINS)}/{rng.choice(WORDS)}/{rng.randrange(1, 999)}"


def phone(rng: random.Random) -> str:
    return f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def words(rng: random.Random, n: int | None = None) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n if n is not None else rng.randint(1, 3)))


def duration(rng: random.Random) -> str:
    return rng.choice(("PT30M", "P1D", "PT1H30M", "P2W", "P1Y2M", "PT45S"))


def _text_rules() -> list[tuple[tuple[str, ...], Callable[[random.Random], str]]]:
    def pick(pool: tuple[str, ...]) -> Callable[[random.Random], str]:
        return lambda rng: rng.choice(pool)

    return [
        (("email", "mail", "emailaddress"), email),
        (("countrycode",), pick(("US", "FR", "DE", "JP", "GB", "BR"))),
        (("username", "handle", "login"), lambda rng: f"{rng.choice(FIRST).lower()}{rng.randrange(10, 99)}"),
        (("url", "website", "link", "homepage", "uri", "href"), url),
        (("uuid", "guid"), uuid4),
        (("datetime", "timestamp"), date_time),
        (("date", "day", "birthday", "deadline"), date),
        (("time",), time),
        (("phone", "mobile", "tel", "telephone"), phone),
        (("zip", "postal", "postcode"), lambda rng: f"{rng.randrange(10000, 99999)}"),
        (("address", "street"), lambda rng: f"{rng.randrange(1, 300)} {rng.choice(STREETS)}"),
        (("city", "location", "town", "place", "destination", "origin"), pick(CITIES)),
        (("country",), pick(COUNTRIES)),
        (("first", "given", "firstname"), pick(FIRST)),
        (("last", "surname", "family", "lastname"), pick(LAST)),
        (("company", "organization", "organisation", "employer"), pick(COMPANIES)),
        (("currency",), pick(CURRENCIES)),
        (("language", "lang", "locale"), pick(LANGUAGES)),
        (("color", "colour"), pick(COLORS)),
        (("title", "subject", "event"), pick(TITLES)),
        (("description", "summary", "query", "question", "prompt", "message", "text", "content", "comment",
          "body", "reason", "instructions"),
         pick(SENTENCES)),
        (("path", "filepath", "filename", "file"), lambda rng: f"/home/user/{rng.choice(WORDS)}.txt"),
        (("command", "cmd"), lambda rng: rng.choice(("ls -la", "git status", "python main.py", "make test"))),
        (("author", "user", "username", "owner", "attendee", "assignee", "person", "customer", "contact"), person),
        (("id", "identifier", "key"), lambda rng: f"{rng.choice(WORDS)[:3]}_{rng.randrange(16**8):08x}"),
    ]  # fmt: skip


_TEXT_RULES = _text_rules()


def text_for(name: str | None, rng: random.Random) -> str | None:
    """A realistic string for a property called ``name``, or None when the name says nothing."""
    if not name:
        return None
    parts = tokens(name)
    joined = "".join(parts)
    # The whole name first, then its last word ("user_id" is an id), then any word.
    for candidate in dict.fromkeys([joined, *parts[::-1]]):
        for keys, make in _TEXT_RULES:
            if candidate in keys:
                return make(rng)
    if parts[-1:] == ["name"]:
        # "name" alone or with a person word is a person; "recipe_name", "product_name" are titles.
        if set(parts) <= _PERSONISH:
            return person(rng)
        return " ".join(w.capitalize() for w in words(rng, rng.randint(1, 2)).split())
    return None


def number_for(name: str | None, rng: random.Random, integer: bool) -> float | int | None:
    """A realistic number for a property called ``name``, or None when the name says nothing."""
    if not name:
        return None
    parts = set(tokens(name))
    if parts & {"lat", "latitude"}:
        return rng.randint(-90, 90) if integer else round(rng.uniform(-90, 90), 4)
    if parts & {"lon", "lng", "long", "longitude"}:
        return rng.randint(-180, 180) if integer else round(rng.uniform(-180, 180), 4)
    if parts & {"price", "amount", "cost", "total", "subtotal", "balance", "fee"}:
        return rng.randint(1, 500) if integer else round(rng.uniform(1, 500), 2)
    if parts & {"temperature", "temp"}:
        return rng.randint(-5, 35) if integer else round(rng.uniform(-5, 35), 1)
    if parts & {"age"}:
        return rng.randint(18, 80)
    if parts & {"count", "quantity", "qty", "limit", "num", "number", "size", "max", "results", "top", "k", "n"}:
        return rng.randint(1, 10)
    if parts & {"year"}:
        return rng.randint(1990, 2025)
    if parts & {"rating", "score", "stars"}:
        return rng.randint(1, 5) if integer else round(rng.uniform(1, 5), 1)
    return None


def any_text(rng: random.Random) -> Any:
    return words(rng)

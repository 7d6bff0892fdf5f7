"""Embeddings behave like embeddings: on a fixed set of sentence pairs, paraphrases score a higher mean cosine
than pairs on a shared topic, which score higher than unrelated pairs, through the OpenAI SDK (float and
base64) and google-genai (embed_content, one call per batch); the same text always gives the same vector."""

from __future__ import annotations

import math

import openai
import pytest
from google import genai
from google.genai import types

from llmreplay.synth import embeddings

PARAPHRASES = [
    ("The cat sat on the mat.", "A cat was sitting on the mat."),
    ("How do I reset my password?", "What is the way to reset a forgotten password?"),
    ("The meeting has been moved to Friday afternoon.", "We moved the meeting to Friday afternoon."),
    ("Paris is the capital of France.", "The capital city of France is Paris."),
    ("She bought three red apples at the market.", "At the market she bought three red apples."),
    ("The train to London was delayed by an hour.", "An hour's delay hit the London train."),
    ("Drink plenty of water when running in hot weather.", "When running in hot weather, drink lots of water."),
    ("The invoice must be paid within thirty days.", "Payment of the invoice is due within thirty days."),
]
SHARED_TOPIC = [
    ("The cat sat on the mat.", "Cats like to sleep in warm places."),
    ("How do I reset my password?", "Passwords should be long and unique."),
    ("Paris is the capital of France.", "France is famous for its wine and cheese."),
    ("The train to London was delayed by an hour.", "London has a large underground railway network."),
    ("Python is a popular programming language.", "I wrote a small script in Python to parse logs."),
    ("The stock market fell sharply on Monday.", "Investors worry about the stock market."),
    ("Drink plenty of water when running in hot weather.", "Marathon running needs months of training."),
    ("The invoice must be paid within thirty days.", "Send the invoice to the accounts department."),
]
UNRELATED = [
    ("The cat sat on the mat.", "Quarterly revenue exceeded analyst expectations."),
    ("How do I reset my password?", "The volcano erupted after centuries of silence."),
    ("Paris is the capital of France.", "Mix the flour with two eggs and some milk."),
    ("The train to London was delayed by an hour.", "Photosynthesis converts sunlight into chemical energy."),
    ("Python is a popular programming language.", "The orchestra played a symphony by Brahms."),
    ("The stock market fell sharply on Monday.", "My grandmother grows tomatoes in her garden."),
    ("Drink plenty of water when running in hot weather.", "The judge postponed the trial until next year."),
    ("The invoice must be paid within thirty days.", "Penguins huddle together to survive the winter."),
]
GROUPS = {"paraphrase": PARAPHRASES, "topic": SHARED_TOPIC, "unrelated": UNRELATED}


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def means(embed) -> dict[str, float]:
    """Mean cosine per group, with ``embed`` turning a list of texts into a list of vectors."""
    out = {}
    for name, pairs in GROUPS.items():
        vecs = embed([t for pair in pairs for t in pair])
        out[name] = sum(cosine(vecs[2 * i], vecs[2 * i + 1]) for i in range(len(pairs))) / len(pairs)
    return out


def assert_ordered(m: dict[str, float]) -> None:
    assert m["paraphrase"] > m["topic"] > m["unrelated"], m
    assert m["paraphrase"] > 0.4 and abs(m["unrelated"]) < 0.1, m


def test_at_least_twenty_pairs() -> None:
    assert sum(len(p) for p in GROUPS.values()) >= 20


def test_the_generator_orders_the_groups() -> None:
    assert_ordered(means(lambda texts: [embeddings.vector(t, 1536) for t in texts]))


@pytest.mark.parametrize("dims", [8, 256, 3072])
def test_unit_length_deterministic_and_sized(dims: int) -> None:
    v = embeddings.vector("Same text, same vector.", dims)
    assert len(v) == dims and v == embeddings.vector("Same text, same vector.", dims)
    assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-6)


def test_text_with_no_features_still_has_a_unit_vector() -> None:
    for text in ("!!!", "the of and", " "):
        v = embeddings.vector(text, 64)
        assert math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-6)


@pytest.mark.sdk
@pytest.mark.parametrize("fmt", ["float", None])
def test_openai_embeddings_through_the_sdk(server, fmt: str | None) -> None:
    """``float`` as asked; None lets the SDK ask for base64 and decode it, as it does by default."""
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    kw = {"encoding_format": fmt} if fmt else {}

    def embed(texts: list[str]) -> list[list[float]]:
        return [d.embedding for d in client.embeddings.create(model="text-embedding-3-small", input=texts, **kw).data]

    assert_ordered(means(embed))
    first = embed(["Same text, same vector."])[0]
    assert first == embed(["Same text, same vector."])[0] == embeddings.vector("Same text, same vector.", 1536)
    small = client.embeddings.create(model="text-embedding-3-large", input="Same text", dimensions=64, **kw)
    assert len(small.data[0].embedding) == 64


@pytest.mark.sdk
def test_gemini_embeddings_through_the_sdk(server) -> None:
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=server.url))

    def embed(texts: list[str]) -> list[list[float]]:
        r = client.models.embed_content(model="gemini-embedding-001", contents=texts)
        return [e.values for e in r.embeddings]

    assert_ordered(means(embed))
    one = (
        client.models.embed_content(
            model="gemini-embedding-001",
            contents="Same text, same vector.",
            config=types.EmbedContentConfig(output_dimensionality=256),
        )
        .embeddings[0]
        .values
    )
    assert len(one) == 256 and one == embeddings.vector("Same text, same vector.", 256)

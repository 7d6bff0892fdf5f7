"""Re-creates cassettes/example.msgpack: a few exchanges recorded through the proxy.

The upstream is llmreplay's own synthetic server (seeded, with a fixed answer and
a realistic pace), so the example is reproducible and needs no API key:

    python scripts/make_example_cassette.py
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import anthropic
import openai
from google import genai
from google.genai import types

from llmreplay.config import Settings
from llmreplay.server import BackgroundServer

ROOT = Path(__file__).resolve().parent.parent
ANSWER = (
    "llmreplay stands in for the OpenAI, Anthropic and Gemini APIs: it records real traffic with the "
    "timing of every event and replays it, byte for byte, at the recorded pace."
)
QUESTION = [{"role": "user", "content": "What is llmreplay?"}]


def main() -> None:
    upstream = Settings.model_validate(
        {
            "latency": {"initial_delay_ms": 250, "delay_ms": 30, "jitter_ms": 25, "chunk_size": 12},
            "synthetic": {"seed": 7, "default_response": ANSWER},
            "server": {"quiet": True},
        }
    )
    with tempfile.TemporaryDirectory() as tmp, BackgroundServer(upstream) as up:
        recorder = Settings.model_validate(
            {
                "server": {"quiet": True},
                "cassettes": {"dir": tmp, "cassette": "example", "upstream": up.url, "record_mode": "all"},
            }
        )
        with BackgroundServer(recorder) as rec:
            oa = openai.OpenAI(base_url=rec.url + "/v1", api_key="sk-example")
            oa.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
            for _ in oa.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True):
                pass
            an = anthropic.Anthropic(base_url=rec.url, api_key="sk-ant-example")
            with an.messages.stream(model="claude-sonnet-4-6", max_tokens=256, messages=QUESTION) as s:
                s.get_final_message()
            gm = genai.Client(api_key="example", http_options=types.HttpOptions(base_url=rec.url))
            for _ in gm.models.generate_content_stream(model="gemini-2.5-flash", contents="What is llmreplay?"):
                pass
        shutil.copy(Path(tmp) / "example.msgpack", ROOT / "cassettes" / "example.msgpack")
    print(f"wrote {ROOT / 'cassettes' / 'example.msgpack'}")


if __name__ == "__main__":
    main()

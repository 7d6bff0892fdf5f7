"""Cost: each exchange's cost at the catalogue's prices, in the journal, /api/metrics, /metrics and the pytest
plugin (the test's cost, a budget assertion and the marker's budget_usd)."""

from __future__ import annotations

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmreplay.catalogue import shipped
from llmreplay.catalogue.cost import cost_usd
from llmreplay.model import Usage
from tests.plugin.test_pytest_plugin import EXAMPLE, run

pytest_plugins = ["pytester"]


def test_prices_by_kind_of_token() -> None:
    cat = shipped()
    assert cost_usd(cat.lookup("gpt-4o"), Usage(1000, 500)) == pytest.approx((1000 * 2.5 + 500 * 10) / 1e6)
    # Cache reads at the cached price; one-hour writes at theirs; reasoning billed as output.
    sonnet = cat.lookup("claude-sonnet-4-5")
    u = Usage(1000, 100, 40, cached_input_tokens=600, cache_write_tokens=300, cache_write_1h_tokens=100)
    want = (100 * 3 + 600 * 0.3 + 200 * 3.75 + 100 * 6 + 100 * 15) / 1e6
    assert cost_usd(sonnet, u) == pytest.approx(want)
    # Gemini 2.5 Pro's long-context prices above 200,000 prompt tokens.
    assert cost_usd(cat.lookup("gemini-2.5-pro"), Usage(300_000, 10)) == pytest.approx((300_000 * 2.5 + 10 * 15) / 1e6)
    assert cost_usd(cat.lookup("my-own-model"), Usage(10, 10)) is None


def test_three_calls_cost_what_the_catalogue_says(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from google import genai
        import anthropic, openai
        from llmreplay.catalogue import shipped
        from llmreplay.catalogue.cost import cost_usd
        from llmreplay.model import Usage

        def test_three(llmreplay):
            cat = shipped()
            ask = [{"role": "user", "content": "What is the capital of France?"}]
            o = openai.OpenAI().chat.completions.create(model="gpt-4o", messages=ask).usage
            a = anthropic.Anthropic().messages.create(model="claude-sonnet-4-5", max_tokens=200, messages=ask).usage
            gem = genai.Client()  # kept: a client collected mid-call closes its transport
            g = gem.models.generate_content(model="gemini-2.5-flash", contents="Capital of France?")
            gu = g.usage_metadata
            thoughts = gu.thoughts_token_count or 0
            want = (
                cost_usd(cat.lookup("gpt-4o"), Usage(o.prompt_tokens, o.completion_tokens))
                + cost_usd(cat.lookup("claude-sonnet-4-5"), Usage(a.input_tokens, a.output_tokens))
                + cost_usd(
                    cat.lookup("gemini-2.5-flash"),
                    Usage(gu.prompt_token_count, (gu.candidates_token_count or 0) + thoughts, thoughts),
                )
            )
            assert want > 0
            assert llmreplay.cost_usd == pytest.approx(want, rel=1e-9)
            assert len([e for e in llmreplay.requests if e["cost_usd"]]) == 3
            llmreplay.assert_cost_below(want * 1.01)
            with pytest.raises(AssertionError, match="over its budget"):
                llmreplay.assert_cost_below(want / 2)

        @pytest.mark.llmreplay(budget_usd=0.0000001)
        def test_over_budget(llmreplay):
            openai.OpenAI().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

        @pytest.mark.llmreplay(budget_usd=1.0)
        def test_within_budget(llmreplay):
            openai.OpenAI().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*over its budget of $0.000000*"])


def test_cost_in_api_metrics_and_prometheus(server) -> None:
    c = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    u = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]).usage
    spent = cost_usd(shipped().lookup("gpt-4o-mini"), Usage(u.prompt_tokens, u.completion_tokens))
    costs = httpx.get(server.url + "/api/metrics").json()["cost_usd"]
    assert costs["by_model"]["gpt-4o-mini"] >= spent > 0 and costs["total"] >= spent
    assert costs["last_minute"] > 0 and costs["by_endpoint"]["chat-completions"] >= spent
    families = {f.name: f for f in text_string_to_metric_families(httpx.get(server.url + "/metrics").text)}
    samples = [s for s in families["llmreplay_cost_usd"].samples if s.name == "llmreplay_cost_usd_total"]
    mini = [s.value for s in samples if s.labels == {"endpoint": "chat-completions", "model": "gpt-4o-mini"}]
    assert mini and mini[0] >= spent


def test_a_replay_costs_its_recorded_usage(make_server) -> None:
    """A cassette's answer is priced from the usage it recorded (12 prompt and 37 output tokens for
    cassettes/example.msgpack's first chat), not from a synthetic estimate."""
    srv = make_server(cassettes={"dir": str(EXAMPLE.parent), "speed": 0})
    c = openai.OpenAI(base_url=srv.url + "/v1", api_key="k", max_retries=0)
    r = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "What is llmreplay?"}])
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (12, 37)
    entry = httpx.get(srv.url + "/api/requests").json()
    listed = entry["requests"] if isinstance(entry, dict) else entry
    assert listed[0]["source"] == "cassette"
    assert listed[0]["cost_usd"] == pytest.approx(cost_usd(shipped().lookup("gpt-4o-mini"), Usage(12, 37)))

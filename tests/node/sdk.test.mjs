// The official Node.js SDKs against a running llmreplay, unchanged but for the base URL.
// Run by tests/test_node_sdks.py, which starts the server and sets LLMREPLAY_URL
// (by hand: LLMREPLAY_URL=http://127.0.0.1:57593 node --test tests/node/).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import Anthropic from "@anthropic-ai/sdk";
import { FunctionCallingConfigMode, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";

const URL = process.env.LLMREPLAY_URL;
if (!URL) throw new Error("set LLMREPLAY_URL to a running llmreplay, e.g. http://127.0.0.1:57593");

const PROMPT = "What is the weather in Paris?";
const WEATHER = {
  type: "object",
  properties: {
    city: { type: "string" },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
    days: { type: "integer" },
  },
  required: ["city", "unit"],
};

function assertArguments(args) {
  assert.equal(typeof args, "object");
  for (const key of WEATHER.required) assert.ok(key in args, `tool arguments lack ${key}: ${JSON.stringify(args)}`);
  assert.ok(WEATHER.properties.unit.enum.includes(args.unit), `unit ${args.unit} outside the enum`);
}

describe("openai", () => {
  const client = new OpenAI({ baseURL: `${URL}/v1`, apiKey: "sk-llmreplay", maxRetries: 0 });

  test("chat completion", async () => {
    const r = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: PROMPT }] });
    assert.equal(r.object, "chat.completion");
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal(r.choices[0].finish_reason, "stop");
    assert.ok(r.usage.total_tokens > 0);
  });

  test("stream", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: PROMPT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let usage = null;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? "";
      usage = chunk.usage ?? usage;
    }
    assert.ok(chunks > 1, "more than one chunk");
    assert.ok(text.length > 0);
    assert.ok(usage.completion_tokens > 0);
  });

  test("forced tool call", async () => {
    const r = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: PROMPT }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: WEATHER } }],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const call = r.choices[0].message.tool_calls[0];
    assert.equal(r.choices[0].finish_reason, "tool_calls");
    assert.equal(call.function.name, "get_weather");
    assertArguments(JSON.parse(call.function.arguments));
  });
});

describe("@anthropic-ai/sdk", () => {
  const client = new Anthropic({ baseURL: URL, apiKey: "sk-ant-llmreplay", maxRetries: 0 });
  const messages = [{ role: "user", content: PROMPT }];

  test("message", async () => {
    const m = await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 256, messages });
    assert.equal(m.type, "message");
    assert.equal(m.content[0].type, "text");
    assert.ok(m.content[0].text.length > 0);
    assert.ok(m.usage.output_tokens > 0);
  });

  test("stream", async () => {
    const stream = client.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 256, messages });
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    assert.ok(text.length > 0);
    assert.equal(final.content[0].text, text);
    assert.ok(["end_turn", "max_tokens"].includes(final.stop_reason));
  });

  test("forced tool use", async () => {
    const m = await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 512,
      messages,
      tools: [{ name: "get_weather", description: "Weather for a city", input_schema: WEATHER }],
      tool_choice: { type: "tool", name: "get_weather" },
    });
    const use = m.content.find((block) => block.type === "tool_use");
    assert.equal(m.stop_reason, "tool_use");
    assert.equal(use.name, "get_weather");
    assertArguments(use.input);
  });
});

describe("@google/genai", () => {
  const ai = new GoogleGenAI({ apiKey: "llmreplay", httpOptions: { baseUrl: URL } });

  test("generateContent", async () => {
    const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: PROMPT });
    assert.ok(r.text.length > 0);
    assert.ok(r.usageMetadata.totalTokenCount > 0);
  });

  test("stream", async () => {
    const stream = await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: PROMPT });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.text ?? "";
    }
    assert.ok(chunks > 1, "more than one chunk");
    assert.ok(text.length > 0);
  });

  test("forced function call", async () => {
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: PROMPT,
      config: {
        tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: WEATHER }] }],
        toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } },
      },
    });
    const call = r.functionCalls[0];
    assert.equal(call.name, "get_weather");
    assertArguments(call.args);
  });
});

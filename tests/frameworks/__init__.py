"""Third-party frameworks (LangChain, the OpenAI Agents SDK, pydantic-ai) driven against a real server as their
users drive them: each builds on an official SDK and parses what it returns strictly, so a framework working is
a second opinion on the wire format."""

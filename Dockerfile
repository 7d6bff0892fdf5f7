# llmreplay in a container: replays the cassettes mounted at /cassettes and answers anything they
# do not hold with a synthetic reply. See docs/containers.md.
#
#   docker build -t llmreplay .
#   docker run --rm -p 57593:57593 -v "$PWD/cassettes:/cassettes:ro" llmreplay

# Build stage: a virtual environment at the same path the runtime stage uses, so its scripts work
# after the copy. Everything installed is a pure-Python or manylinux wheel: no compiler is needed.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/llmreplay
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY llmreplay ./llmreplay
# fast: uvloop; redis: the client the compose file's scale profile (LLMREPLAY_STATE=redis://…) needs.
ARG EXTRAS=fast,redis
RUN /opt/llmreplay/bin/pip install --no-cache-dir ".[${EXTRAS}]"

# Runtime stage: the interpreter, the environment, nothing of the build.
FROM python:3.11-slim
LABEL org.opencontainers.image.title="llmreplay" \
      org.opencontainers.image.description="A stand-in for the OpenAI, Anthropic and Gemini APIs: synthetic replies, record and replay." \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/llmreplay /opt/llmreplay
# A fixed uid (not in the host's range) so a bind-mounted /cassettes can be made writable for it
# when recording; --no-log-init keeps useradd from writing a huge sparse lastlog for a high uid.
RUN useradd --system --no-create-home --no-log-init --uid 10001 --user-group --shell /usr/sbin/nologin llmreplay \
    && mkdir /cassettes \
    && chown llmreplay:llmreplay /cassettes
# Every default is an environment variable rather than a flag, so `docker run -e …` can change it
# (flags would win over the environment). Replay /cassettes; a request no cassette holds gets a
# synthetic reply (LLMREPLAY_ON_MISS=error makes a miss fail instead, as a strict CI wants).
ENV PATH=/opt/llmreplay/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=57593 \
    LLMREPLAY_CASSETTES=/cassettes \
    LLMREPLAY_ON_MISS=synthetic
# Numeric, so Kubernetes' runAsNonRoot can check it without the image's /etc/passwd.
USER 10001:10001
# The working directory stays /: the other commands' default folder, the relative `cassettes`, is then
# /cassettes too (`docker run IMAGE cassettes list`).
WORKDIR /
VOLUME ["/cassettes"]
EXPOSE 57593
# The slim image has no curl: the standard library asks /health on the port the server uses.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '57593') + '/health', timeout=2)"]
# `docker run IMAGE record --upstream openai` or `docker run IMAGE cassettes …` run the other commands.
ENTRYPOINT ["llmreplay"]
CMD ["serve"]

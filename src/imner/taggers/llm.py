"""Prompted LLM tagger for any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, ...).

The prompt is a file kept in the repository (``resources/prompts/ner_v1.txt``). The model answers
with entity *strings*; they are aligned back to exact character spans in order of appearance
(exact match, then case-insensitive, then whitespace-insensitive). Strings that cannot be aligned
— the known weakness of LLM extraction — are never guessed: they are counted in ``self.stats`` and
listed per document in ``self.unaligned``.

Long documents are sent in chunks of whole sentences (``max_chars`` each), never cut.
``max_tokens`` caps each answer (small models can repeat themselves until the context is full). An answer that is
not valid JSON — most often one cut off at ``max_tokens`` — raises :class:`LLMError` by default; with
``on_bad_answer="count"`` the complete ``{"text": ..., "label": ...}`` objects in it are kept and the answer is counted
(``stats["bad_answers"]``, ``self.bad_answers``). Token usage reported by the endpoint is summed in ``stats``.
No network access happens until :meth:`predict` is called with a configured ``base_url``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from imner.config import RESOURCES
from imner.configkit import init_config
from imner.errors import ConfigError, ImnerError
from imner.schema import BY_NAME, LABEL_NAMES
from imner.taggers.base import Tagger
from imner.text import split_sentences
from imner.types import Document, Span

DEFAULT_PROMPT = RESOURCES / "prompts" / "ner_v1.txt"


class LLMError(ImnerError):
    """The endpoint failed or answered something that is not the JSON asked for."""


def chunk_sentences(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Group whole sentences into chunks of at most ``max_chars`` (a longer sentence is its own chunk)."""
    chunks: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if chunks and e - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], e)
        else:
            chunks.append((s, e))
    return chunks


def _loose_pattern(mention: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in mention.split()]
    return re.compile(r"\s*".join(parts), re.IGNORECASE)


def align_mentions(text: str, mentions: Sequence[tuple[str, str]], offset: int = 0
                   ) -> tuple[list[Span], list[tuple[str, str]]]:
    """Place ``(mention, label)`` pairs on ``text`` in order; returns ``(spans, unaligned)``.

    Each mention is searched from just after the previous aligned mention, then from the start of the
    text; a match on characters already taken by another span is skipped.
    """
    spans: list[Span] = []
    unaligned: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    cursor = 0

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def find(mention: str, start: int) -> tuple[int, int] | None:
        pos = text.find(mention, start)
        while pos != -1:
            if free(pos, pos + len(mention)):
                return pos, pos + len(mention)
            pos = text.find(mention, pos + 1)
        # then case-insensitively and with loose spacing, matched on the text itself: lower-casing a copy of the
        # text would move offsets wherever it changes a character's length ("İ" lower-cases to two)
        for pat in (re.compile(re.escape(mention), re.IGNORECASE), _loose_pattern(mention)):
            m = pat.search(text, start)
            while m is not None:
                if m.end() > m.start() and free(m.start(), m.end()):
                    return m.start(), m.end()
                m = pat.search(text, m.start() + 1)
        return None

    for mention, label in mentions:
        mention = mention.strip()
        hit = find(mention, cursor) if mention else None
        if hit is None and mention:
            hit = find(mention, 0)
        if hit is None:
            unaligned.append((mention, label))
            continue
        a, b = hit
        taken.append((a, b))
        cursor = b
        spans.append(Span(a + offset, b + offset, label, None, {"source": "llm"}))
    return sorted(spans, key=lambda s: (s.start, s.end)), unaligned


def salvage_items(content: str) -> list[dict[str, Any]]:
    """The complete flat JSON objects (``{"text": ..., "label": ...}``) in an answer that is not valid JSON as a
    whole, e.g. one cut off mid-list."""
    items = []
    for m in re.finditer(r"\{[^{}]*\}", content):
        try:
            item = json.loads(m.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and "text" in item:
            items.append(item)
    return items


def _pairs(items: Any, labels: Sequence[str]) -> tuple[list[tuple[str, str]], int]:
    pairs, bad = [], 0
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            bad += 1
            continue
        label = str(item.get("label", "")).strip().upper()
        if label not in labels:
            bad += 1
            continue
        pairs.append((item["text"], label))
    return pairs, bad


def parse_answer(content: str, labels: Sequence[str]) -> tuple[list[tuple[str, str]], int]:
    """Entity pairs from the model's answer; also the number of items with a label outside ``labels``."""
    m = re.search(r"\{.*\}|\[.*\]", content, re.DOTALL)
    if not m:
        raise LLMError(f"the model answered no JSON: {content[:200]!r}")
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError as e:
        raise LLMError(f"the model answered invalid JSON ({e.msg}): {content[:200]!r}") from e
    items = data.get("entities", []) if isinstance(data, dict) else data
    return _pairs(items, labels)


class LLMTagger(Tagger):
    name = "llm.v1"
    labels_key = "labels"

    def __init__(self, base_url: str | None = None, model: str = "default", *, api_key_env: str = "IMNER_LLM_API_KEY",
                 prompt: str | None = None, labels: Sequence[str] = LABEL_NAMES, temperature: float = 0.0,
                 max_chars: int = 2000, timeout: float = 120.0, max_tokens: int | None = None,
                 on_bad_answer: str = "raise") -> None:
        if on_bad_answer not in ("raise", "count"):
            raise ConfigError(f"llm.v1: on_bad_answer must be 'raise' or 'count', got {on_bad_answer!r}")
        self.base_url = base_url or os.environ.get("IMNER_LLM_URL")
        self.model = model
        self.api_key_env = api_key_env
        self.prompt = prompt
        self.labels = tuple(labels)
        self.temperature = temperature
        self.max_chars = max_chars
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.on_bad_answer = on_bad_answer
        self.stats: Counter[str] = Counter()
        self.unaligned: dict[str, list[tuple[str, str]]] = {}
        self.bad_answers: dict[str, list[dict[str, Any]]] = {}

    def config(self) -> dict[str, Any]:
        return init_config(self, exclude=("labels",))

    def _template(self) -> str:
        path = Path(self.prompt) if self.prompt else DEFAULT_PROMPT
        return path.read_text(encoding="utf-8")

    def _chat(self, content: str) -> str:
        if not self.base_url:
            raise ConfigError("llm.v1 needs an endpoint: pass base_url (e.g. http://127.0.0.1:8000/v1) "
                              "or set IMNER_LLM_URL")
        request: dict[str, Any] = {"model": self.model, "temperature": self.temperature,
                                   "messages": [{"role": "user", "content": content}]}
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        body = json.dumps(request).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = self.base_url.rstrip("/") + "/chat/completions"
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as e:
            raise LLMError(f"{url}: request failed: {e}") from e
        try:
            choice = data["choices"][0]
            answer = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as e:
            raise LLMError(f"{url}: not an OpenAI-style chat answer: {str(data)[:200]}") from e
        usage = data.get("usage") if isinstance(data, dict) else None
        if isinstance(usage, dict):
            self.stats.update({k: int(usage[k]) for k in ("prompt_tokens", "completion_tokens")
                               if isinstance(usage.get(k), int)})
        if isinstance(choice, dict) and choice.get("finish_reason") == "length":
            self.stats.update(cut_at_max_tokens=1)
        return answer

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        template = self._template()
        descriptions = "\n".join(f"- {name}: {BY_NAME[name].description}" if name in BY_NAME else f"- {name}"
                                 for name in self.labels)
        out = []
        for doc in docs:
            spans: list[Span] = []
            lost: list[tuple[str, str]] = []
            for a, b in chunk_sentences(doc.text, self.max_chars):
                answer = self._chat(template.format(label_descriptions=descriptions, text=doc.text[a:b]))
                try:
                    pairs, bad = parse_answer(answer, self.labels)
                except LLMError as e:
                    if self.on_bad_answer == "raise":
                        raise LLMError(f"document {doc.id!r}, characters {a}-{b}: {e}") from e
                    pairs, bad = _pairs(salvage_items(answer), self.labels)
                    self.bad_answers.setdefault(doc.id, []).append(
                        {"start": a, "end": b, "error": str(e), "kept_items": len(pairs) + bad})
                    self.stats.update(bad_answers=1)
                got, missing = align_mentions(doc.text[a:b], pairs, offset=a)
                spans.extend(got)
                lost.extend(missing)
                self.stats.update(returned=len(pairs) + bad, aligned=len(got), unaligned=len(missing),
                                  bad_label=bad, requests=1)
            self.unaligned[doc.id] = lost
            out.append(sorted(spans, key=lambda s: (s.start, s.end)))
        return out

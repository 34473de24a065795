"""What ``imner serve`` is configured with: the model, the limits and the queue, as one dataclass.

uvicorn starts each worker process from an import string, so the settings travel to the workers as JSON in the
environment variable ``IMNER_SERVE_SETTINGS`` (:meth:`ServeSettings.to_env` / :meth:`ServeSettings.from_env`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

from imner.errors import ConfigError

ENV_VAR = "IMNER_SERVE_SETTINGS"


@dataclass(frozen=True)
class ServeSettings:
    """The server's options. Every limit answers with a JSON error naming it and its value when exceeded."""

    #: model directory (None: the shipped default model)
    model: str | None = None
    #: cohort index (DuckDB file) for the cohort routes; None: those routes are not served
    db: str | None = None
    #: request body size limit in bytes (413 beyond)
    max_body_bytes: int = 5 * 1024 * 1024
    #: documents in one request (413 beyond)
    max_documents: int = 256
    #: characters of text in one document (413 beyond)
    max_text_chars: int = 1_000_000
    #: seconds a request may take from admission to answer, queue wait included (504 beyond)
    timeout_seconds: float = 60.0
    #: requests a worker holds at once, running or waiting for the extraction thread (503 beyond)
    queue_size: int = 16
    #: extraction threads per worker (parallelism across cores comes from ``--workers``)
    threads: int = 1
    #: documents per batch given to the tagger (the same default as ``imner extract --batch-size``)
    batch_size: int = 16

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_documents", "max_text_chars", "queue_size", "threads", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"serve setting {name} must be a positive integer, got {value!r}")
        if not isinstance(self.timeout_seconds, (int, float)) or self.timeout_seconds <= 0:
            raise ConfigError(f"serve setting timeout_seconds must be a positive number, got {self.timeout_seconds!r}")

    def limits(self) -> dict[str, int | float]:
        """The limits, by the names error bodies use."""
        return {"max_body_bytes": self.max_body_bytes, "max_documents": self.max_documents,
                "max_text_chars": self.max_text_chars, "timeout_seconds": self.timeout_seconds,
                "queue_size": self.queue_size}

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "ServeSettings":
        raw = (environ if environ is not None else os.environ).get(ENV_VAR)
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{ENV_VAR} is not valid JSON ({exc.msg})") from None
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"{ENV_VAR}: unknown settings {unknown}; allowed: {sorted(allowed)}")
        return cls(**data)

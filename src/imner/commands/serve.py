"""``imner serve``: the REST API and the web app on uvicorn (needs the ``serve`` extra).

Binds to 127.0.0.1 unless ``--host`` says otherwise. Each worker process loads the model once; ``GET /health``
answers 200 when it is ready. API, limits and error bodies: docs/serve.md (and /docs once running).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from imner.serve.settings import ServeSettings

    d = ServeSettings()
    p = sub.add_parser("serve", help="REST API and web app (FastAPI + uvicorn; the `serve` extra)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes, each with its own model (default 1)")
    p.add_argument("-m", "--model", default=None, help="model directory (default: the shipped default model)")
    p.add_argument("--db", default=None, help="cohort index (DuckDB, from `imner index`): serves POST /v1/cohort and "
                        "GET /v1/documents/{id}/summary")
    g = p.add_argument_group("limits (each answers with a JSON error naming it)")
    g.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes,
                   help=f"request body size, 413 beyond (default {d.max_body_bytes})")
    g.add_argument("--max-documents", type=int, default=d.max_documents,
                   help=f"documents per request, 413 beyond (default {d.max_documents})")
    g.add_argument("--max-text-chars", type=int, default=d.max_text_chars,
                   help=f"characters per document, 413 beyond (default {d.max_text_chars})")
    g.add_argument("--timeout", type=float, default=d.timeout_seconds,
                   help=f"seconds per request, queue wait included, 504 beyond (default {d.timeout_seconds:g})")
    g.add_argument("--queue-size", type=int, default=d.queue_size,
                   help=f"requests a worker holds at once, running or waiting; 503 beyond (default {d.queue_size})")
    g.add_argument("--threads", type=int, default=d.threads,
                   help=f"extraction threads per worker (default {d.threads})")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import os

    from imner.errors import ConfigError
    from imner.serve.settings import ENV_VAR, ServeSettings

    try:
        import uvicorn  # noqa: F401
        import fastapi  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"imner serve needs the `serve` extra ({exc.name} is missing): "
                          "pip install 'imner[serve]'") from None
    if args.db is not None:
        from pathlib import Path

        from imner.serve.cohort_routes import available

        if not available():
            raise ConfigError("--db needs the `cohort` extra (duckdb, lark): pip install 'imner[cohort]'")
        if not Path(args.db).is_file():
            raise ConfigError(f"--db {args.db}: no such index; build it with `imner index REPORTS --db {args.db}`")
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    settings = ServeSettings(model=args.model, db=args.db, max_body_bytes=args.max_body_bytes,
                             max_documents=args.max_documents, max_text_chars=args.max_text_chars,
                             timeout_seconds=args.timeout, queue_size=args.queue_size, threads=args.threads)
    if args.model is not None:
        from imner.taggers.base import read_config
        from pathlib import Path

        read_config(Path(args.model), f"{args.model}: no config.json here; give a model directory written by "
                    "`imner train` (or leave out --model for the shipped default)")  # a missing model fails here, not in every worker
    os.environ[ENV_VAR] = settings.to_env()
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    uvicorn.run("imner.serve.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, access_log=False, log_level=args.log_level,
                # a backstop beyond the per-worker queue: connections past it get 503 from uvicorn itself
                limit_concurrency=max(64, 4 * settings.queue_size))
    return 0

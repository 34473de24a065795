"""``imner serve``: the REST API and the web app (FastAPI + uvicorn, the ``serve`` extra).

* :mod:`imner.serve.settings`: the limits and options (a dataclass; passed to uvicorn workers through the
  environment);
* :mod:`imner.serve.runtime`: the model held by a worker, the bounded extraction queue and the jobs;
* :mod:`imner.serve.app`: the FastAPI application (``create_app``), its routes and error bodies;
* ``static/``: the web app (plain HTML, CSS and JavaScript; nothing is fetched from elsewhere).

Importing this package imports neither FastAPI nor the model; :func:`imner.serve.app.create_app` does.
"""

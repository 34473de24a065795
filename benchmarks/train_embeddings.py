"""Train the project's word embeddings: a shortcut for ``python -m imner_dev.train_embeddings`` (the code lives in
the unshipped dev package, ``dev/imner_dev/train_embeddings.py``, where its docstring says what text is used)."""

from imner_dev.train_embeddings import main

if __name__ == "__main__":
    main()

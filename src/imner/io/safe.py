"""Safe output: nothing lost, nothing half-written, and an interrupted run can be resumed.

One mechanism for every writer that produces a file or folder of records (``imner extract``; the cohort index
can journal the same way):

* **Write beside, rename on success.** Output goes to ``<target>.partial`` (a file, or a folder for brat) next to
  the target; :meth:`SafeOutput.commit` renames it onto the target (``os.replace``: atomic on one file system)
  only when the run has finished. A run that fails or is interrupted leaves the previous target untouched.
* **Whole records only.** Each record is written with one ``write`` and flushed; if writing fails (disk full, I/O
  error) the partial file is cut back to the end of the last whole record, so it never ends in half a record.
  A ``kill -9`` between two writes can still leave half a line: :func:`read_journal` drops it when resuming.
* **Resume.** ``resume=True`` continues ``<target>.partial`` (or, when there is none, the finished target: then
  documents added to the input since are appended). The ids already written are in :attr:`SafeOutput.done`; the
  caller skips those documents (:func:`skip_done`), checking that they are the first ones of the input, so no
  document is lost or repeated.
* **Not the input.** :func:`refuse_same_file` stops a run whose output is its input before anything is opened.

Standard output (``-``) and special files (``/dev/null``, a FIFO) are written directly: nothing to rename, no
resume.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from imner.errors import InputError, OutputError, excerpt
from imner.types import Document

PARTIAL_SUFFIX = ".partial"


def partial_path(target: str | Path) -> Path:
    """Where the output of an unfinished run lives: ``<target>.partial`` beside the target."""
    t = Path(target)
    return t.with_name(t.name + PARTIAL_SUFFIX)


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def refuse_same_file(inputs: Iterable[str | Path], output: str | Path) -> None:
    """An :class:`OutputError` when ``output`` (or its ``.partial``) is one of ``inputs`` (a file or folder), or is
    a ``.txt`` file inside an input folder (a later run would read it as input). Called before anything is
    opened."""
    if str(output) == "-":
        return
    out = Path(output)
    for inp in inputs:
        if str(inp) == "-":
            continue
        p = Path(inp)
        if _same(p, out) or _same(p, partial_path(out)):
            raise OutputError(f"the output {out} is the input {p}: writing it would destroy the input; "
                              "choose another --output")
        if p.is_dir() and out.suffix.lower() == ".txt" and _same(p, out.parent):
            raise OutputError(f"the output {out} is a .txt file inside the input folder {p}, which a later run "
                              "would read as input; choose another --output")


def read_journal(path: str | Path, parse: Callable[[str, int], str]) -> tuple[list[str], int]:
    """``(ids, length)`` of a line-per-record file: the id of each whole line (``parse(line, line number)``
    returns it and raises :class:`~imner.errors.InputError` when the line is not a record), and the byte length
    of the whole lines. A last line without its newline (a run killed mid-write) is not counted: the caller cuts
    the file to ``length``."""
    p = Path(path)
    data = p.read_bytes()
    end = data.rfind(b"\n") + 1
    ids: list[str] = []
    for n, raw in enumerate(data[:end].split(b"\n")[:-1], start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("not valid UTF-8: this is not output imner wrote; rerun without --resume",
                             source=str(p), line=n) from None
        ids.append(parse(line, n))
    return ids, end


def jsonl_id(source: str) -> Callable[[str, int], str]:
    """A :func:`read_journal` parser for JSONL lines with an ``"id"``."""
    def parse(line: str, n: int) -> str:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a JSON line (at column {exc.colno}: {exc.msg}): this is not output imner wrote; "
                             "rerun without --resume", source=source, line=n) from None
        if not isinstance(obj, dict) or "id" not in obj:
            raise InputError("a line without \"id\": this is not output imner wrote; rerun without --resume",
                             source=source, line=n)
        return str(obj["id"])
    return parse


def skip_done(docs: Iterable[Document], done: list[str], *, output: str) -> Iterator[Document]:
    """``docs`` without the first ``len(done)`` documents, checked to be the ones already written (the same ids,
    as a set: brat folders have no order); :class:`InputError` when the input changed since."""
    it = iter(docs)
    if done:
        want = set(done)
        seen: list[str] = []
        for doc in it:
            seen.append(doc.id)
            if doc.id not in want:
                raise InputError(f"cannot resume: input document {len(seen)} ({excerpt(doc.id)}) is not among "
                                 f"the first {len(done)} already written there; the input changed since the "
                                 "interrupted run: rerun without --resume", source=output)
            if len(seen) == len(done):
                break
        if len(seen) < len(done):
            raise InputError(f"cannot resume: {len(done)} documents were written but the input has only "
                             f"{len(seen)}; rerun without --resume", source=output)
    yield from it


class SafeOutput:
    """A file written through ``<target>.partial`` (see the module doc). ``write(text)`` writes one whole record.

    Use as a context manager or call :meth:`open`, then :meth:`commit` on success and :meth:`close` always (it
    keeps a partial file that holds records, for ``--resume``, and removes an empty one).
    """

    folder = False

    def __init__(self, target: str | Path, *, resume: bool = False,
                 parse_id: Callable[[str, int], str] | None = None) -> None:
        self.target = Path(target)
        self.direct = str(target) == "-" or (self.target.exists() and not self.target.is_file()
                                             and not self.target.is_dir())
        self.path = self.target if self.direct else partial_path(self.target)
        self.resume = resume
        self.parse_id = parse_id
        self.done: list[str] = []
        self.written = 0          # records written by this run
        self._fh: IO[str] | None = None
        self._good = 0            # byte length of the whole records in the file
        self.committed = False

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> "SafeOutput":
        if not self.direct and self.target.is_dir():
            raise OutputError(f"{self.target} is a folder; this format writes a file: give a file name")
        if self.direct:
            if self.resume:
                raise OutputError(f"--resume needs an output file or folder, not {self.target}")
            try:
                self._fh = open(self.target, "w", encoding="utf-8", newline="\n") if str(self.target) != "-" \
                    else None
            except OSError as exc:
                raise OutputError(f"{self.target}: cannot write ({exc.strerror or exc})") from exc
            return self
        if self.resume:
            if self.parse_id is None:
                raise OutputError(f"--resume is not possible for this output format ({self.target}); "
                                  "it works for jsonl and brat")
            source = self.path if self.path.exists() else self.target if self.target.is_file() else None
            if source is not None:
                self.done, self._good = read_journal(source, self.parse_id)
                if source != self.path:
                    shutil.copyfile(source, self.path)
                with open(self.path, "r+b") as fh:
                    fh.truncate(self._good)
        try:
            self._fh = open(self.path, "a" if self.resume else "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot write ({exc.strerror or exc})") from exc
        if not self.resume:
            self._good = 0
        return self

    def __enter__(self) -> "SafeOutput":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        self.close()

    def write(self, text: str) -> None:
        """Write one whole record (``text`` ends with its newline); on failure cut back to the last whole one."""
        import sys

        fh = self._fh if self._fh is not None else sys.stdout
        try:
            fh.write(text)
            fh.flush()
        except OSError as exc:
            self._cut_back()
            raise OutputError(f"{self.path}: cannot write ({exc.strerror or exc}); "
                              f"{self.written} document(s) of this run were written before it") from exc
        self._good += len(text.encode("utf-8"))
        self.written += 1

    def write_pieces(self, pieces: Iterable[str]) -> None:
        """Write one whole record given in pieces (the last ends with its newline), without joining them: on any
        failure while writing or making them (an interrupt included), cut back to the last whole record."""
        import sys

        fh = self._fh if self._fh is not None else sys.stdout
        size = 0
        try:
            for piece in pieces:
                fh.write(piece)
                size += len(piece.encode("utf-8"))
            fh.flush()
        except OSError as exc:
            self._cut_back()
            raise OutputError(f"{self.path}: cannot write ({exc.strerror or exc}); "
                              f"{self.written} document(s) of this run were written before it") from exc
        except BaseException:
            self._cut_back()
            raise
        self._good += size
        self.written += 1

    def _cut_back(self) -> None:
        if self.direct or self._fh is None:
            return
        try:
            self._fh.close()
        except OSError:
            pass
        self._fh = None
        try:
            with open(self.path, "r+b") as fh:
                fh.truncate(self._good)
        except OSError:
            pass

    def commit(self) -> None:
        """Finish: flush to disk and rename the partial file onto the target."""
        if self.direct:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
            self.committed = True
            return
        fh = self._fh
        try:
            if fh is not None:
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
                self._fh = None
            os.replace(self.path, self.target)
        except OSError as exc:
            self._cut_back()
            raise OutputError(f"cannot finish {self.target} ({exc.strerror or exc}); the finished part is kept in "
                              f"{self.path}: fix the cause and rerun with --resume") from exc
        self.committed = True

    def close(self) -> None:
        """Close without committing: an empty partial file is removed, one with records is kept for --resume."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                self._cut_back()
            self._fh = None
        if not self.committed and not self.direct and self.path.exists() and self._good == 0:
            self.path.unlink()

    @property
    def kept(self) -> Path | None:
        """The partial output left by an unfinished run (None when committed or nothing was written)."""
        if self.committed or self.direct or not self.path.exists():
            return None
        return self.path


class SafeFolder(SafeOutput):
    """A folder of per-document files (brat) written through ``<target>.partial/``.

    ``write_files(doc_id, {suffix: text})`` writes one document's files, each through a temporary name and a
    rename, the ``.ann`` last, so a document counts as done (for ``--resume``) only once all its files are whole.
    :meth:`commit` moves the files onto the target folder (files of other documents there are kept).
    """

    folder = True

    def __init__(self, target: str | Path, *, resume: bool = False, done_suffix: str = ".ann") -> None:
        super().__init__(target, resume=resume)
        if str(target) == "-":
            raise OutputError("this format writes a folder; give --output DIR")
        self.direct = False
        self.path = partial_path(self.target)
        self.done_suffix = done_suffix

    def open(self) -> "SafeFolder":
        if self.target.exists() and not self.target.is_dir():
            raise OutputError(f"{self.target} exists and is not a folder; this format writes a folder")
        if self.path.exists() and not self.resume:
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        if self.resume:
            names = {p.stem for p in self.path.glob(f"*{self.done_suffix}")}
            if self.target.is_dir():
                names |= {p.stem for p in self.target.glob(f"*{self.done_suffix}")}
            self.done = sorted(names)
            for tmp in self.path.glob(".*.tmp"):
                tmp.unlink()
        return self

    def write_files(self, files: list[tuple[str, str]]) -> None:
        """Write ``(file name, content)`` pairs of one document, the last one last."""
        try:
            for name, content in files:
                tmp = self.path / f".{name}.tmp"
                with open(tmp, "w", encoding="utf-8", newline="") as fh:
                    fh.write(content)
                os.replace(tmp, self.path / name)
        except OSError as exc:
            for name, _ in files:
                (self.path / f".{name}.tmp").unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot write {files[-1][0]} ({exc.strerror or exc}); "
                              f"{self.written} document(s) of this run were written before it") from exc
        self._good += 1
        self.written += 1

    def write(self, text: str) -> None:  # pragma: no cover - folders take whole documents
        raise TypeError("SafeFolder.write_files takes a document's files")

    def commit(self) -> None:
        try:
            if not self.target.exists():
                os.replace(self.path, self.target)
            else:
                for f in sorted(self.path.iterdir()):
                    os.replace(f, self.target / f.name)
                self.path.rmdir()
        except OSError as exc:
            raise OutputError(f"cannot finish {self.target} ({exc.strerror or exc}); the finished part is kept in "
                              f"{self.path}: fix the cause and rerun with --resume") from exc
        self.committed = True

    def close(self) -> None:
        if not self.committed and self.path.exists() and not any(self.path.iterdir()):
            self.path.rmdir()

    @property
    def kept(self) -> Path | None:
        if self.committed or not self.path.exists():
            return None
        return self.path


def staged_folder(target: str | Path) -> Path:
    """An empty ``<target>.partial/`` folder to build a whole output folder in (a model directory); a leftover
    one from a failed run is cleared. :func:`replace_folder` puts it in place."""
    stage = partial_path(target)
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    return stage


def replace_folder(stage: str | Path, target: str | Path) -> None:
    """Put the finished folder ``stage`` at ``target``. An earlier ``target`` is moved aside first
    (``<target>.replaced``) and deleted only once the new one is in place, so a failure at any point leaves a
    whole folder at ``target`` or beside it, never half of one."""
    stage, target = Path(stage), Path(target)
    old = target.with_name(target.name + ".replaced")
    try:
        if target.exists():
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        os.replace(stage, target)
    except OSError as exc:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise OutputError(f"cannot put the new {target} in place ({exc.strerror or exc}); it is kept in "
                          f"{stage}") from exc
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_text_safely(path: str | Path, text: str) -> None:
    """Write a small file (a report) through ``<path>.partial`` and a rename: never half-written."""
    with SafeOutput(path) as out:
        out.write(text)


__all__ = ["PARTIAL_SUFFIX", "SafeFolder", "SafeOutput", "jsonl_id", "partial_path", "read_journal",
           "refuse_same_file", "skip_done", "write_text_safely"]

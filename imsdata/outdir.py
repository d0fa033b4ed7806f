"""The output folder of `run`/`demo`: written whole, never destroying what imsdata did not write.

A folder is ours when it holds the marker `.imsdata-out.json`, which lists the files the last run
wrote. A run builds its files in a sibling staging folder (`.<name>.imsdata-new`), then swaps it
in: the old folder is renamed aside (`.<name>.imsdata-old`), the staging folder takes its name,
and every file the old run did not write (the user's: a PDF in upload/, a subfolder, a workspace)
is moved back in. Files the old run wrote and this one did not (a stale rejects.csv) go with the
old folder. A kill at any moment leaves the old run or the new one: `begin` finishes or undoes an
interrupted swap before anything else, and removes leftover temp files. One process at a time
recovers or swaps a folder (a lock file beside it, removed when done).

`IMSDATA_TEST_KILL_AT=<point>` makes the process SIGKILL itself at a named point of the swap
(tests only; see `checkpoint`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imsdata.errors import InputError

MARKER = ".imsdata-out.json"
_KIND = "imsdata output folder"
#: Temp files `fileio.atomic_path` leaves behind when killed mid-write: `.<name>.<random>.tmp`.
_TEMP_FILE = re.compile(r"^\..+\.[A-Za-z0-9_]{6,}\.tmp$")


def checkpoint(point: str) -> None:
    """Tests kill the process here (IMSDATA_TEST_KILL_AT=point) to prove a kill loses nothing."""
    if os.environ.get("IMSDATA_TEST_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _siblings(out: Path) -> tuple[Path, Path]:
    return out.with_name(f".{out.name}.imsdata-new"), out.with_name(f".{out.name}.imsdata-old")


def _owned(folder: Path) -> set[str] | None:
    """The files the run that wrote `folder` listed in its marker; None if not ours."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") != _KIND:
        return None
    return {str(f) for f in data.get("files", [])}


def _write_marker(folder: Path, files: list[str]) -> None:
    tmp = folder / f"{MARKER}.tmp"
    tmp.write_text(json.dumps({"kind": _KIND, "files": sorted(files)}, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def _one_line(out: Path, exc: OSError) -> InputError:
    return InputError(f"{out}: output folder cannot be written: {exc.strerror or exc}")


def _keep_user_files(old: Path, new: Path, owned: set[str]) -> None:
    """Move into `new` every entry of `old` that its run did not write (recursing only into
    folders that hold files it wrote); files this run wrote keep their place."""
    prefixes = {p for f in owned for p in _parents(f)}

    def walk(rel: str) -> None:
        for entry in sorted((old / rel).iterdir() if rel else old.iterdir()):
            name = f"{rel}/{entry.name}" if rel else entry.name
            if name == MARKER or name in owned:
                continue
            if name in prefixes and entry.is_dir() and not entry.is_symlink():
                walk(name)
                continue
            target = new / name
            if target.exists() or target.is_symlink():  # the new run wrote the same name
                target = target.with_name(target.name + ".user")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(entry, target)

    walk("")


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Only one imsdata process recovers or swaps `out` at a time (a lock file beside it, held
    with flock and removed when done); another one is refused with one line."""
    lock_path = out.with_name(f".{out.name}.imsdata-lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{out}: another imsdata run is writing this output folder; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)  # before the unlock: a newcomer locks a new file
    finally:
        os.close(fd)


def _recover(out: Path) -> None:
    """Finish or undo a swap a kill interrupted; remove a staging folder left behind."""
    new, old = _siblings(out)
    if old.exists() and not out.exists():
        if new.is_dir() and _owned(new) is not None:  # killed between the two renames
            os.replace(new, out)
        else:
            os.replace(old, out)  # the new run never got in: the old one stays
    if old.exists():  # killed while moving the user's files back: finish it
        _keep_user_files(old, out, _owned(old) or set())
        shutil.rmtree(old)
    if new.exists():  # a run killed before its swap: the old run stays
        shutil.rmtree(new)
    if out.is_dir():
        for entry in out.iterdir():
            if _TEMP_FILE.match(entry.name) and entry.is_file():
                entry.unlink()


@dataclass
class Output:
    """A checked output folder; `writing()` yields the staging folder and swaps it in."""

    out: Path

    @property
    def staging(self) -> Path:
        """Where this run's files are written before the swap."""
        return _siblings(self.out)[0]

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """Yield an empty staging folder; swap it in when the block succeeds, else drop it."""
        with _locked(self.out):
            try:
                _recover(self.out)  # a staging folder of a run killed since `begin`
                self.staging.mkdir()
            except OSError as exc:
                raise _one_line(self.out, exc) from None
            try:
                yield self.staging
            except BaseException:
                self.abort()
                raise
            self.commit()

    def commit(self) -> None:
        """Swap the finished staging folder in, keeping the user's files of the old one."""
        new, old = _siblings(self.out)
        files = sorted(
            p.relative_to(self.staging).as_posix()
            for p in self.staging.rglob("*")
            if p.is_file() and p.name != MARKER
        )
        try:
            _write_marker(self.staging, files)  # the staging folder is complete from here
            checkpoint("staged")
            owned = _owned(self.out) or set()
            os.replace(self.out, old)
            checkpoint("old-aside")
            os.replace(new, self.out)
            checkpoint("swapped")
            _keep_user_files(old, self.out, owned)
            checkpoint("user-files-back")
            shutil.rmtree(old)
        except OSError as exc:
            raise _one_line(self.out, exc) from None

    def abort(self) -> None:
        """Drop the staging folder (the old run stays as it was)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def begin(out: str | os.PathLike[str]) -> Output:
    """Check `out` can take a run's files (and settle a run killed in it); one-line InputError
    if not.

    Refused: a file, the current folder or one holding it, and a non-empty folder without the
    marker (not written by imsdata). A missing folder is created, with an empty marker, so the
    workspace may live in it. Checked before any state is written.
    """
    out = Path(out)
    try:
        resolved = out.resolve()
        here = Path.cwd().resolve()
    except OSError as exc:
        raise _one_line(out, exc) from None
    if resolved == here or resolved in here.parents:
        raise InputError(f"{out}: output folder must not be the current folder or one holding it")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: output folder expected, found a file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out):
            _recover(out)
        if out.is_dir() and _owned(out) is None and any(out.iterdir()):
            raise InputError(
                f"{out}: folder is not empty and was not written by imsdata (no {MARKER}); "
                "choose a new or empty --out folder"
            )
        if not out.exists():
            out.mkdir(parents=True)
        for folder in (out, out.parent):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise InputError(f"{folder}: output folder cannot be written: permission denied")
        if _owned(out) is None:
            _write_marker(out, [])
    except OSError as exc:
        raise _one_line(out, exc) from None
    return Output(out=out)

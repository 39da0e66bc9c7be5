"""Verified downloads with pooch: try each mirror in turn, keep a file only when its pinned SHA-256 matches."""

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pooch

from numpynn.errors import DownloadError

DOWNLOAD_TIMEOUT_S = 60
CHUNK_BYTES = 256 * 1024


class CappedDownloader:
    """A pooch downloader that stops a download once it passes max_bytes (the pinned file's size), while it
    streams: a mirror, or anyone between it and us on plain http, cannot fill the disk before the hash check."""

    def __init__(self, max_bytes: int | None):
        self.max_bytes = max_bytes

    def __call__(self, url: str, output_file: str | Path, pooch_instance: pooch.Pooch | None = None,
                 check_only: bool = False) -> None:
        """Stream url into output_file (pooch's downloader protocol); a ValueError once past max_bytes."""
        import requests  # pooch's own dependency

        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT_S) as response:
            response.raise_for_status()
            declared = response.headers.get("Content-Length", "")
            if self.max_bytes is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise ValueError(f"it announced {int(declared):,} bytes, over the pinned file's {self.max_bytes:,}")
            got = 0
            with open(output_file, "wb") as out:
                for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                    got += len(chunk)
                    if self.max_bytes is not None and got > self.max_bytes:
                        raise ValueError(f"it sent more than the pinned file's {self.max_bytes:,} bytes")
                    out.write(chunk)


def cache_dir() -> Path:
    """Where numpynn keeps downloads and verified arrays.

    $NUMPYNN_DATA, else $XDG_CACHE_HOME/numpynn, else ~/.cache/numpynn.
    """
    if os.environ.get("NUMPYNN_DATA"):
        return Path(os.environ["NUMPYNN_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "numpynn"


def resolve_mirrors(mirrors: Sequence[str] | str | None, env_var: str, default: Sequence[str]) -> tuple[str, ...]:
    """The mirror list: the argument, else the env var (comma or space separated), else the default."""
    if mirrors is None:
        mirrors = os.environ.get(env_var, "").replace(",", " ").split() or default
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    mirrors = tuple(mirrors)
    if not mirrors:
        raise DownloadError(f"No mirrors given; pass mirrors=[...] or set {env_var}, "
                            "or leave both unset for the defaults.")
    return mirrors


def fetch_file(name: str, sha256: str, mirrors: Sequence[str], folder: str | os.PathLike,
               content_check: Callable[[Path], None] | None = None, max_bytes: int | None = None) -> Path:
    """Path of `folder/name` with the given SHA-256, downloading it from the first mirror that serves it intact.

    A cached file whose hash matches is used without any request. Pooch downloads to a temp file beside
    the target and moves it into place only after the hash matched, so a failure never leaves a file
    that a later run would trust. With `content_check` (raises ValueError unless the file's decompressed
    content has its pinned SHA-256), a mirror that re-compressed the file is accepted too. A download that
    passes `max_bytes` (the pinned file's size) is stopped as it streams and that mirror counts as failed.
    """
    if content_check is not None:
        return _fetch_checked(name, sha256, mirrors, Path(folder), content_check, max_bytes)
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        try:
            path = pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=name, path=folder,
                                  downloader=CappedDownloader(max_bytes))
            return Path(path)
        except (ValueError, OSError) as exc:  # requests' errors are OSErrors; a hash mismatch is a ValueError
            failures.append(f"{url} ({_reason(exc)})")
    raise _no_mirror(name, sha256, failures)


def _fetch_checked(name, sha256, mirrors, folder: Path, content_check, max_bytes) -> Path:
    """fetch_file for a file whose content hash is pinned: the .gz bytes may differ, the content may not."""
    target = folder / name
    if target.is_file() and _accepted(target, sha256, content_check):
        return target
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        part = folder / f"{name}.part"
        try:
            part.unlink(missing_ok=True)
            pooch.retrieve(url, known_hash=None, fname=part.name, path=folder, downloader=CappedDownloader(max_bytes))
            if _accepted(part, sha256, content_check):
                os.replace(part, target)
                return target
            failures.append(f"{url} (neither its SHA-256 nor its content's matches the pinned ones)")
        except (ValueError, OSError) as exc:
            failures.append(f"{url} ({_reason(exc)})")
        part.unlink(missing_ok=True)
    raise _no_mirror(name, sha256, failures)


def _accepted(path: Path, sha256: str, content_check) -> bool:
    if pooch.file_hash(str(path)) == sha256:
        return True
    try:
        content_check(path)
    except (ValueError, OSError):
        return False
    return True


def _no_mirror(name, sha256, failures) -> DownloadError:
    return DownloadError(f"Could not download {name}: no mirror delivered a file with SHA-256 {sha256}. Tried "
                         + "; ".join(failures) + ". Check the network, or pass other mirrors.")


def _reason(exc) -> str:
    """One mirror's failure in a few words: requests' own messages run to several nested reprs."""
    import requests  # pooch's own dependency

    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {DOWNLOAD_TIMEOUT_S} s"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "could not connect: no network, or the host is unknown or down"
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, ValueError) and "hash" in str(exc).lower():
        return "the downloaded file's SHA-256 does not match the pinned one"
    text = str(exc).strip() or type(exc).__name__
    return text.split(". ")[0][:200]

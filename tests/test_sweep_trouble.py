"""Sweeps when things go wrong: a journal torn by a power cut, damaged or foreign journals, bad storage URLs,
a malformed sweep.json, the storage lost mid-sweep. Each is one sentence with the right exit code, and
nothing finished is lost."""

import json
import shutil

import optuna
import pytest

from numpynn.app.commands import parser as cli
from numpynn.app.sweep import study as study_module
from numpynn.app.sweep.journal import check_journal
from numpynn.app.sweep.study import _journal_backend

GRID = ["--grid", "lr=0.05,0.5", "--subset", "120", "--val-split", "0.25", "--epochs", "1", "--hidden", "8"]


def sweep(out, *extra):
    return cli.main(["sweep", *GRID, "--out", str(out), *extra])


def trials(out):
    storage = optuna.storages.JournalStorage(_journal_backend(optuna, str(out / "study.journal")))
    return optuna.load_study(study_name=out.name, storage=storage).get_trials()


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("swept") / "sw"
    assert sweep(out) == 0
    return out


@pytest.fixture
def copy(finished_sweep, tmp_path):
    out = tmp_path / "sw"
    shutil.copytree(finished_sweep, out)
    return out


def one_sentence(err: str) -> str:
    assert err.startswith("numpynn: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_torn_last_record_is_cut_back_with_a_copy_kept_and_the_study_goes_on(copy, capsys):
    journal = copy / "study.journal"
    whole = journal.read_bytes()
    journal.write_bytes(whole[:-37])  # a power cut in the middle of the last write
    capsys.readouterr()
    assert sweep(copy, "--trials", "2") == 0
    err = capsys.readouterr().err
    assert "cut short" in err and "kept a copy as study.journal.torn-" in err
    backup = next(copy.glob("study.journal.torn-*"))
    assert backup.read_bytes() == whole[:-37]  # the file as it was, kept
    assert sum(t.state.name == "COMPLETE" for t in trials(copy)) >= 1  # the finished trials are reachable
    assert sweep(copy, "--trials", "2") == 0  # and from then on every command works (0.2.0: all failed)
    assert len([t for t in trials(copy) if t.state.name == "COMPLETE"]) == 2


def test_a_journal_that_0_2_0_appended_after_a_torn_record_is_salvaged(copy):
    journal = copy / "study.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    damaged = b"".join(lines[:-1]) + lines[-1][:-20] + b"".join(lines[1:3])  # torn, then appended after
    journal.write_bytes(damaged)
    note = check_journal(journal)
    assert note is not None and "cut short" in note
    assert journal.read_bytes() == b"".join(lines[:-1]) + b"".join(lines[1:3])
    trials(copy)  # Optuna reads it again


@pytest.mark.parametrize("damage, words", [
    (lambda data: data[:200] + b"garbage in the middle\n" + data[200:], "damaged at line"),
    (lambda data: data + b'{"unknown": "entry"}\n', "damaged at line"),
    (lambda data: data + b'{"op_code": 1, "worker_id": "x"\xff\xfe}\n', "damaged at line"),
])
def test_a_damaged_journal_is_one_sentence_and_left_as_it_was(copy, capsys, damage, words):
    journal = copy / "study.journal"
    journal.write_bytes(damage(journal.read_bytes()))
    before = journal.read_bytes()
    capsys.readouterr()
    assert sweep(copy) == 2
    assert words in one_sentence(capsys.readouterr().err)
    assert journal.read_bytes() == before and not list(copy.glob("study.journal.torn-*"))


def test_a_journal_path_that_is_a_folder_is_one_sentence(tmp_path, capsys):
    (tmp_path / "j").mkdir()
    assert sweep(tmp_path / "sw", "--storage", str(tmp_path / "j")) == 2
    assert "is a folder" in one_sentence(capsys.readouterr().err)


@pytest.mark.parametrize("url, words", [("foo://x", "not a database SQLAlchemy knows"),
                                        ("postgresql+nodriver://u@h/d", "not a database SQLAlchemy knows"),
                                        ("://x", "not a database URL"),
                                        ("postgresql://u:hunter2@h:notaport/d", "not a database URL")])
def test_a_bad_storage_url_is_one_sentence_before_anything_is_written(tmp_path, capsys, url, words):
    assert sweep(tmp_path / "sw", "--storage", url) == 2
    err = one_sentence(capsys.readouterr().err)
    assert words in err and "hunter2" not in err
    assert not (tmp_path / "sw").exists()


@pytest.mark.parametrize("plan", ["[1, 2]", '{"study": "sw"}', "not json"])
def test_report_on_a_malformed_sweep_json_is_one_sentence(copy, capsys, plan):
    (copy / "sweep.json").write_text(plan)
    assert cli.main(["sweep", "--report", str(copy)]) == 2
    assert "sweep.json" in one_sentence(capsys.readouterr().err)


def test_report_on_a_sweep_json_with_a_broken_spec_is_one_sentence(copy, capsys):
    saved = json.loads((copy / "sweep.json").read_text())
    saved["spec"] = {"params": "nonsense"}
    (copy / "sweep.json").write_text(json.dumps(saved))
    assert cli.main(["sweep", "--report", str(copy)]) == 2
    assert "sweep.json" in one_sentence(capsys.readouterr().err)


def test_the_storage_lost_mid_sweep_is_one_sentence_and_exit_1(tmp_path, capsys, monkeypatch):
    """As when PostgreSQL stops mid-sweep: Optuna raises StorageInternalError from deep inside a worker."""
    real = study_module.Study.trials
    calls = []

    def failing(self, states=None):
        calls.append(states)
        if len(calls) > 3:
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.")
        return real(self, states)
    monkeypatch.setattr(study_module.Study, "trials", failing)
    code = sweep(tmp_path / "sw", "--storage", f"sqlite:///{tmp_path / 'study.db'}")
    err = capsys.readouterr().err
    last = err.splitlines()[-1] + "\n"  # after the progress bar
    assert code == 1 and "Lost the study's storage sqlite:///" in one_sentence(last)
    assert "rerun the same command" in err

"""The `trm` module (bindings/python): import, versions, the task layer end to end on the shipped
models, solve and step-level use, progress and cancellation, and the C status on every error."""
import json
import pathlib
import re
import subprocess
import threading

import numpy as np
import pytest

from conftest import BIN, ROOT

import trm

SUDOKU_MODEL, ARC_MODEL = ROOT / "models" / "sudoku6-trm-attn.ckpt", ROOT / "models" / "arc4-trm-attn.ckpt"


def compiled(ckpt, out):
    subprocess.run([str(BIN / "trm-compile"), str(ckpt), "-o", str(out), "-q"], check=True)
    return out


@pytest.fixture(scope="module")
def sudoku(tmp_path_factory):
    return trm.Model(compiled(SUDOKU_MODEL, tmp_path_factory.mktemp("m") / "s.trmg"))


@pytest.fixture(scope="module")
def arc(tmp_path_factory):
    return trm.Model(compiled(ARC_MODEL, tmp_path_factory.mktemp("m") / "a.trmg"))


@pytest.fixture(scope="module")
def sudoku_rows(tmp_path_factory):
    """16 generated 6x6 puzzles (a seed the shipped model's training did not use): (question, answer)."""
    csv = tmp_path_factory.mktemp("d") / "s.csv"
    subprocess.run([str(BIN / "trm-data"), "generate", "--task", "sudoku", "--size", "6", "--count", "16", "--seed", "92",
                    "-o", str(csv), "-q"], check=True)
    return [tuple(line.split(",")[1:3]) for line in csv.read_text().splitlines()[1:]]


def test_the_installed_package_is_this_checkout():
    assert pathlib.Path(trm.__file__).resolve() == ROOT / "bindings" / "python" / "trm" / "__init__.py"
    assert trm.library_path.resolve() == (BIN / "libtrm_runtime.so").resolve()


def test_versions_agree_with_the_library_and_the_header():
    swift = (ROOT / "Sources" / "TRMCore" / "Version.swift").read_text()
    assert trm.__version__ == re.search(r'string = "([^"]+)"', swift).group(1)
    assert trm.library_version == f"trm_runtime {trm.__version__}"
    header = (ROOT / "include" / "trm_runtime.h").read_text()
    major, minor, patch = (int(re.search(rf"#define TRM_API_VERSION_{p} (\d+)", header).group(1)) for p in ("MAJOR", "MINOR", "PATCH"))
    assert trm._lib.trm_api_version() == major * 10000 + minor * 100 + patch == trm._capi.API_VERSION
    statuses = re.findall(r"TRM_(?:OK|ERR_[A-Z_]+) = (\d+)", header)
    assert [int(s) for s in statuses] == list(range(len(trm._capi.STATUS_NAMES)))
    assert [trm._lib.trm_status_string(i).decode() for i in range(len(statuses))] == trm._capi.STATUS_NAMES
    assert trm._lib.trm_status_string(99).decode() == "unknown status"


def test_sudoku_puzzle_end_to_end(sudoku, sudoku_rows):
    rows = sudoku_rows
    with trm.Session(sudoku, batch=8) as session, trm.Task(sudoku, "sudoku", num_aug=2, seed=5) as task:
        seen = []
        session.set_progress(lambda done, total: seen.append((done, total)))
        for question, answer in rows:
            task.add_grid(question, answer)
        unscored = task.add_grid(rows[0][0])  # the same puzzle without its answer: solved, not scored
        assert task.puzzle_count == 17 and task.query_count == 17 * 3
        task.run(session)
        assert seen and seen[-1] == (51, 51) and all(d <= t for d, t in seen)
        rate, scored = task.pass_at_k(1)
        assert scored == 16
        solved = [i for i, r in enumerate(rows) if "".join(map(str, task.attempt(i).ravel())) == r[1]]
        assert len(solved) / 16 == pytest.approx(rate) and solved, "the 6x6 model solved none of 16 puzzles"
        assert task.attempt(unscored).shape == (6, 6) and (task.attempt(unscored) == task.attempt(0)).all()
        grid, votes = task.candidates(solved[0])[0]
        assert votes >= 2 and "".join(map(str, grid.ravel())) == rows[solved[0]][1]


def test_arc_puzzle_from_json_text(arc, tmp_path):
    puzzle = json.loads((ROOT / "data" / "arc" / "arc1.json").read_text())["train"]["3c9b0459"]
    with trm.Session(arc, batch=8) as session, trm.Task(arc, "arc", num_aug=7) as task:
        p = task.add_arc_json("3c9b0459", json.dumps(puzzle))
        assert task.test_count(p) == len(puzzle["test"]) and task.query_count == 8 * len(puzzle["test"])
        task.run(session)
        submission = tmp_path / "submission.json"
        subprocess.run([str(BIN / "trm-run"), str(arc.path), "--task", "arc",
                        "--split", "train", "--puzzles", "3c9b0459", "--num-aug", "7", "-q", "--submission", str(submission)],
                       check=True)
        reference = json.loads(submission.read_text())["3c9b0459"]
        for t, pair in enumerate(reference):
            assert task.attempt(p, t, 1).tolist() == pair["attempt_1"]
            assert task.attempt(p, t, 2).tolist() == pair["attempt_2"]
        ranked = task.candidates(p, 0)
        assert ranked and [v for _, v in ranked] == sorted((v for _, v in ranked), reverse=True)
        assert sum(v for _, v in ranked) <= 8


def test_own_loop_with_query_and_set_prediction(sudoku, sudoku_rows):
    with trm.Session(sudoku, batch=4) as session, trm.Task(sudoku, "sudoku") as task:
        task.add_grid(sudoku_rows[0][0])
        tokens, row = task.query(0)
        assert tokens.shape == (36,) and row == 0
        out = session.solve(tokens[None, :])
        task.set_prediction(0, out["preds"][0], float(out["q_halt"][0]))
        assert task.attempt(0).shape == (6, 6)


def test_step_level_reads_before_a_step_are_a_state_error(sudoku):
    with trm.Session(sudoku, batch=2) as session:
        with pytest.raises(trm.TRMError) as e:
            session.predictions()
        assert e.value.status == 8 and e.value.status_name == "invalid state"
        tokens = np.ones((2, 36), np.int32)
        session.load(tokens)
        with pytest.raises(trm.TRMError):
            session.read("q_halt", (2,))
        session.step()
        assert session.read("q_halt", (2,)).shape == (2,) and session.predictions().shape == (2, 36)


def test_cancel_from_the_progress_callback_and_from_another_thread(sudoku):
    tokens = np.ones((64, 36), np.int32)
    with trm.Session(sudoku, batch=2) as session:
        calls = []

        def stop_early(done, total):
            calls.append(done)
            session.cancel()
        session.set_progress(stop_early)
        with pytest.raises(trm.Cancelled) as e:
            session.solve(tokens)
        assert e.value.status == 7 and len(calls) == 1
        session.set_progress(None)
        assert session.solve(tokens[:2])["preds"].shape == (2, 36), "a cancelled session must run again"
        timer = threading.Timer(0.05, session.cancel)
        timer.start()
        with pytest.raises(trm.Cancelled):
            session.solve(np.ones((4096, 36), np.int32))
        timer.join()


def test_errors_carry_the_c_status(sudoku, arc, tmp_path):
    with pytest.raises(trm.TRMError) as e:
        trm.Model(tmp_path / "missing.trmg")
    assert e.value.status == 3 and "missing.trmg" in e.value.message
    for batch in (0, 1 << 20):  # one status for every out-of-range argument
        with pytest.raises(trm.TRMError) as e:
            trm.Session(sudoku, batch=batch)
        assert e.value.status == 1, (batch, e.value)
    with pytest.raises(trm.TRMError) as e:
        trm.Task(arc, "sudoku")
    assert e.value.status == 4 and "arc" in e.value.message
    with trm.Task(sudoku, "sudoku") as task:
        with pytest.raises(trm.TRMError) as e:
            task.add_grid("1.3")
        assert e.value.status == 4 and "characters" in e.value.message
        with pytest.raises(trm.TRMError) as e:
            task.add_grid("11" + "." * 34)
        assert e.value.status == 4 and "twice" in e.value.message
        with pytest.raises(trm.TRMError) as e:
            task.attempt(3)
        assert e.value.status == 1
    with trm.Task(arc, "arc") as task:
        with pytest.raises(trm.TRMError) as e:
            task.add_arc_json("x", '{"train": [], "test": [')
        assert e.value.status == 4 and "line 1" in e.value.message
    with pytest.raises(ValueError):
        trm.Task(sudoku, "chess")


def test_a_model_closed_before_its_session_stays_usable(tmp_path, sudoku_rows):
    model = trm.Model(compiled(SUDOKU_MODEL, tmp_path / "s.trmg"))
    session, task = trm.Session(model, batch=2), trm.Task(model, "sudoku")
    model.close()
    task.add_grid(sudoku_rows[0][0])
    task.run(session)
    assert task.attempt(0).shape == (6, 6)
    session.close()
    task.close()

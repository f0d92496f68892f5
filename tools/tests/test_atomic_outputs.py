"""Interrupting trm-compile or trm-run (Ctrl-C, SIGTERM) at any moment leaves either no output or the
complete output under its final name, and never a temp file (AtomicFile + InterruptDeferral)."""
import hashlib
import json
import signal
import subprocess
import time

from conftest import run, sudoku4_model

SIZE = ["--hidden", "256", "--heads", "4", "--h-cycles", "2", "--l-cycles", "2", "--halt-max-steps", "2"]


def interrupt_at(cmd, delay, sig):
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    return p.returncode, err.decode()


def assert_clean(directory, keep):
    stray = [p.name for p in directory.iterdir() if p.name not in keep]
    assert not stray, f"files left behind: {stray}"


def timed(cmd):
    start = time.monotonic()
    run(*cmd)
    return time.monotonic() - start


def test_interrupted_compile_leaves_whole_file_or_nothing(bin_dir, tmp_path):
    ckpt = tmp_path / "m.ckpt"
    run(bin_dir / "trm-train", "init", "--preset", "trm-attn", "--task", "arc", *SIZE, "-o", ckpt)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    reference = tmp_path / "reference.trmg"
    full = timed([bin_dir / "trm-compile", ckpt, "-o", reference, "-q"])
    digest = hashlib.sha256(reference.read_bytes()).hexdigest()
    outcomes = set()
    for i in range(12):
        target = out_dir / "m.trmg"
        target.unlink(missing_ok=True)
        sig = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
        code, err = interrupt_at([bin_dir / "trm-compile", ckpt, "-o", target, "-q"], full * (i + 0.5) / 12, sig)
        assert "Fatal error" not in err and "Sanitizer" not in err, err
        assert_clean(out_dir, {"m.trmg"})
        if target.exists():
            assert hashlib.sha256(target.read_bytes()).hexdigest() == digest, "a partial .trmg was left"
            outcomes.add("complete")
        else:
            assert code != 0, "trm-compile exited 0 without writing its output"
            outcomes.add("absent")
    print(f"compile interrupted 12 times over {full:.2f} s: {sorted(outcomes)}")


def test_interrupted_run_leaves_whole_report_or_nothing(bin_dir, tmp_path):
    ckpt, model = sudoku4_model(bin_dir, tmp_path, "trm-attn", SIZE)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cmd = [bin_dir / "trm-run", model, "--task", "sudoku", "--limit", "64", "--seed", "0", "-q"]
    full = timed(cmd + ["--json", tmp_path / "reference.json"])
    for i in range(8):
        report = out_dir / "report.json"
        report.unlink(missing_ok=True)
        code, err = interrupt_at(cmd + ["--json", report], full * (i + 0.5) / 8, signal.SIGINT)
        assert "Fatal error" not in err, err
        assert_clean(out_dir, {"report.json"})
        if report.exists():
            json.loads(report.read_text())
        else:
            assert code != 0

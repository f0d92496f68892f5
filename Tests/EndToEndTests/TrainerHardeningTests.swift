import Foundation
import GraphIR
import Testing

/// trm-train under contention and a full disk, and options checked before work (issue: hardening,
/// second round, defects 7-9).
@Suite(.serialized) struct TrainerHardeningTests {
    static let tiny = [
        "--task", "sudoku", "--grid", "4", "--preset", "trm-attn", "--hidden", "32", "--heads", "4",
        "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "2", "--batch", "4", "--train-count", "64",
        "--eval-count", "0", "--threads", "1", "-q",
    ]

    /// Defect 7: a second trainer on the same output is refused, naming the first one's PID.
    @Test func secondTrainerOnTheSameOutputIsRefused() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.ckpt"
        let first = try MeasuredRun.Child("trm-train", Self.tiny + ["--steps", "1000000", "--checkpoint-every", "50", "-o", out])
        defer { kill(first.pid, SIGKILL) }
        #expect(MeasuredRun.waitForFile(out + ".lock"), "the first trainer never took its lock: \(first.stderrSoFar)")
        let second = try MeasuredRun.run("trm-train", Self.tiny + ["--steps", "10", "-o", out], deadline: 60)
        #expect(second.status == 1, "second trainer: exit \(second.status): \(second.stderr)")
        #expect(second.stderr.contains("PID \(first.pid)"), "\(second.stderr)")
        // The first one is unaffected: stopped by its PID, it saves and says how to resume.
        #expect(MeasuredRun.waitForFile(out + ".state"))
        kill(first.pid, SIGTERM)
        let r = first.wait(deadline: 60)
        #expect(r.status == 130, "first trainer: exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("--resume"))
        #expect(!FileManager.default.fileExists(atPath: out + ".lock"), "the lock file outlived its run")
        #expect(try Executables.run("trm-info", [out]).status == 0)
    }

    /// Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN, as CI runs).
    static let canMountTmpfs: Bool = {
        guard let dir = try? Executables.temporaryDirectory() else { return false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard (try? Executables.runSystem("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]).status) == 0 else {
            print("⚠️  TrainerHardeningTests.fullDiskKeepsThePreviousCheckpoint is SKIPPED: this machine does not allow mounting a tmpfs")
            return false
        }
        _ = try? Executables.runSystem("/bin/umount", [dir])
        return true
    }()

    /// Defect 8: a full disk at checkpoint time keeps the previous checkpoint and the run going.
    @Test(.enabled(if: canMountTmpfs, "needs to mount a tmpfs (root)"))
    func fullDiskKeepsThePreviousCheckpoint() throws {
        // Measure what one save writes, then give the run room for exactly one save: the second
        // needs the old files and the new temp files at once and meets ENOSPC.
        let probe = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: probe) }
        let p = try Executables.run(
            "trm-train", Self.tiny + ["--steps", "5", "--checkpoint-every", "5", "--log-every", "100", "-o", probe + "/m.ckpt"])
        #expect(p.status == 0, "\(p.stderr)")
        let saved = try FileManager.default.contentsOfDirectory(atPath: probe).reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: probe + "/" + name)[.size] as? Int) ?? 0)
        }
        let mount = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let size = (saved * 3 / 2 + 4095) / 4096 * 4096
        #expect(try Executables.runSystem("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mount]).status == 0)
        defer { _ = try? Executables.runSystem("/bin/umount", [mount]) }
        let out = mount + "/m.ckpt"
        let r = try MeasuredRun.run(
            "trm-train", Self.tiny + ["--steps", "15", "--checkpoint-every", "5", "--log-every", "100", "-o", out],
            deadline: 120)
        #expect(!r.timedOut && r.signal == nil, "\(r.stderr)")
        // Saves at steps 10 and 15 fail; each says so; the run reaches its end and fails there,
        // naming the step that is on disk.
        #expect(r.stderr.components(separatedBy: "could not save step").count - 1 >= 2, "\(r.stderr)")
        #expect(r.stderr.contains("hold step 5"), "\(r.stderr)")
        #expect(r.stderr.contains("tries again at the next checkpoint"), "\(r.stderr)")
        #expect(r.status == 1, "exit \(r.status)")
        let info = try Executables.run("trm-info", [out])
        #expect(info.status == 0, "the previous checkpoint is damaged: \(info.stderr)")
        let stray = try FileManager.default.contentsOfDirectory(atPath: mount).filter { $0.hasPrefix(".") }
        #expect(stray.isEmpty, "temp files left: \(stray)")
        // With room again, --resume continues from step 5 and finishes.
        let roomy = probe + "/resumed.ckpt"
        for suffix in ["", ".state", ".metrics.jsonl"] { try FileManager.default.copyItem(atPath: out + suffix, toPath: roomy + suffix) }
        let resumed = try Executables.run(
            "trm-train", Self.tiny + ["--steps", "15", "--checkpoint-every", "5", "--log-every", "100", "-o", roomy, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    /// Defect 9: options are checked before the data is built or any step runs.
    @Test func badTrainingOptionsFailBeforeWork() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for bad in [["--steps", "0"], ["--log-every", "0"], ["--warmup", "-1"], ["--checkpoint-every", "0"]] {
            let r = try Executables.run("trm-train", Self.tiny.filter { $0 != "-q" } + bad + ["-o", dir + "/m.ckpt"])
            #expect(r.status == 2, "\(bad): exit \(r.status): \(r.stderr)")
            #expect(!r.stdout.contains("trm-train trm-attn"), "\(bad): training started: \(r.stdout)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "\(bad) left files")
        }
    }
}

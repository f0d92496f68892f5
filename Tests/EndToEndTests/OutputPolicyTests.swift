import Foundation
import GraphIR
import Testing
import TRMCore
import TestSupport

/// The output policy as users meet it through the real executables: device nodes and FIFOs are
/// written in place (nodes made in a temp directory, never the system's), links are followed,
/// an output that is an input is refused before any work, and multi-file writers say what they wrote.
@Suite struct OutputPolicyTests {
    static let train =
        ["--task", "sudoku", "--grid", "4", "--preset", "tr-mamba2attn"] + CompileRunTests.small
        + ["--batch", "4", "--train-count", "16", "--eval-count", "4", "--threads", "1", "-q"]

    static func charDevice(_ path: String, minor: UInt32) throws {
        guard mknod(path, S_IFCHR | 0o666, dev_t((1 << 8) | minor)) == 0 else {
            throw TRMError(.io, "mknod \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func kind(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    static func contents(_ path: String) -> Data? { try? Data(contentsOf: URL(fileURLWithPath: path)) }

    static func names(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    @Test func compileToANullDeviceWritesInPlace() throws {
        let (dir, _) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let null = dir + "/null"
        try Self.charDevice(null, minor: 3)
        let r = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", null])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote \(null)"))
        #expect(Self.kind(null) == S_IFCHR)
        #expect(Self.names(dir) == ["m.ckpt", "m.trmg", "null"])
    }

    @Test func compileToAFullDeviceFailsAndLeavesIt() throws {
        let (dir, _) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let full = dir + "/full"
        try Self.charDevice(full, minor: 7)
        let r = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", full])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("trm-compile: error: cannot write \(full): No space left on device"), "\(r.stderr)")
        #expect(Self.kind(full) == S_IFCHR)
        #expect(Self.names(dir) == ["full", "m.ckpt", "m.trmg"])
    }

    @Test func compileThroughALinkWritesItsTarget() throws {
        let (dir, _) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("old".utf8).write(to: URL(fileURLWithPath: dir + "/real.trmg"))
        chmod(dir + "/real.trmg", 0o600)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.trmg", withDestinationPath: "real.trmg")
        let r = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", dir + "/link.trmg"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.kind(dir + "/link.trmg") == S_IFLNK)
        #expect(try TrmgReader.read(path: dir + "/real.trmg").graph.nodes.count > 0, "the target holds a compiled model")
        #expect(try FileManager.default.attributesOfItem(atPath: dir + "/real.trmg")[.posixPermissions] as? Int == 0o600)
        #expect(!Self.names(dir).contains { $0.contains(".tmp-") })
    }

    @Test func compileOverItsOwnCheckpointIsRefused() throws {
        let (dir, _) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ckpt = dir + "/m.ckpt"
        let before = try #require(Self.contents(ckpt))
        try FileManager.default.createSymbolicLink(atPath: dir + "/alias.ckpt", withDestinationPath: "m.ckpt")
        try FileManager.default.linkItem(atPath: ckpt, toPath: dir + "/hard.ckpt")
        for output in [ckpt, dir + "/alias.ckpt", dir + "/hard.ckpt"] {
            let r = try Executables.run("trm-compile", [ckpt, "-o", output])
            #expect(r.status == 1)
            #expect(r.stderr == "trm-compile: error: output \(output) is the same file as the input \(ckpt); refusing to overwrite it\n")
        }
        #expect(Self.contents(ckpt) == before)
        #expect(Self.kind(dir + "/alias.ckpt") == S_IFLNK)
    }

    @Test func runRefusesJsonOverTheModelAndWritesDevicesAndDescriptors() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try #require(Self.contents(model))
        let task = [model, "--task", "sudoku", "--limit", "2", "--threads", "1", "--batch", "2", "-q"]
        let refused = try Executables.run("trm-run", task + ["--json", model])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("output \(model) is the same file as the input \(model)"), "\(refused.stderr)")
        #expect(Self.contents(model) == before)

        let null = dir + "/null"
        try Self.charDevice(null, minor: 3)
        let toNull = try Executables.run("trm-run", task + ["--json", null])
        #expect(toNull.status == 0, "\(toNull.stderr)")
        #expect(Self.kind(null) == S_IFCHR)
        // The child's stdout is a pipe: the JSON goes into it, through the descriptor.
        let toStdout = try Executables.run("trm-run", task + ["--json", "/proc/self/fd/1"])
        #expect(toStdout.status == 0, "\(toStdout.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(toStdout.stdout.utf8)) as? [String: Any]
        #expect(json?["puzzles"] as? Int == 2, "\(toStdout.stdout)")
    }

    @Test func rawModeListsTheFilesItWroteAndRefusesItsInputs() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Npy.write(.int32([Int32](repeating: 1, count: 2 * 16)), shape: [2, 16], to: dir + "/tok.npy")
        let out = dir + "/out"
        let r = try Executables.run("trm-run", [model, "--inputs", dir + "/tok.npy", "--out", out, "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote \(out)/logits.npy, \(out)/preds.npy, \(out)/q_halt.npy, \(out)/steps.npy"), "\(r.stdout)")
        // preds.npy is a valid token file: feeding it back into the same --out would overwrite it.
        let preds = try #require(Self.contents(out + "/preds.npy"))
        let again = try Executables.run("trm-run", [model, "--inputs", out + "/preds.npy", "--out", out, "--threads", "1"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("output \(out)/preds.npy is the same file as the input \(out)/preds.npy"), "\(again.stderr)")
        #expect(Self.contents(out + "/preds.npy") == preds)
        let notDir = try Executables.run("trm-run", [model, "--inputs", dir + "/tok.npy", "--out", dir + "/tok.npy"])
        #expect(notDir.status == 1 && notDir.stderr.contains("is not a directory"), "\(notDir.stderr)")
    }

    @Test func trainRefusesANonFileOutputBeforeTraining() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.charDevice(dir + "/null", minor: 3)
        guard mkfifo(dir + "/fifo", 0o644) == 0 else { throw TRMError(.io, "mkfifo failed") }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "null")
        for (output, what) in [("null", "is a device"), ("fifo", "is a FIFO"), ("link", "is a device"), ("sub", "is a directory")] {
            let start = Date()
            let r = try Executables.run("trm-train", Self.train + ["--steps", "1", "-o", dir + "/" + output])
            #expect(r.status != 0 && r.stderr.contains(what), "\(output): \(r.stderr)")
            #expect(Date().timeIntervalSince(start) < 30)
        }
        #expect(Self.names(dir) == ["fifo", "link", "null", "sub"], "nothing created next to them")
        #expect(Self.kind(dir + "/null") == S_IFCHR && Self.kind(dir + "/fifo") == S_IFIFO)
        #expect(Self.names(dir + "/sub").isEmpty)

        // A training input as -o (or as one of its sidecars) is refused too.
        try Data("source,question,answer,rating\n".utf8).write(to: URL(fileURLWithPath: dir + "/p.csv"))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/m.ckpt.curve.svg"))
        let same = try Executables.run("trm-train", Self.train + ["--data", dir + "/p.csv", "-o", dir + "/p.csv"])
        #expect(same.status == 1 && same.stderr.contains("same file as the input \(dir)/p.csv"), "\(same.stderr)")
        let sidecar = try Executables.run("trm-train", Self.train + ["--eval-data", dir + "/m.ckpt.curve.svg", "-o", dir + "/m.ckpt"])
        #expect(sidecar.status == 1 && sidecar.stderr.contains("output \(dir)/m.ckpt.curve.svg is the same file"), "\(sidecar.stderr)")
        #expect(Self.contents(dir + "/m.ckpt.curve.svg") == Data("keep".utf8))

        // `trm-train init` writes one file, by the general policy.
        let initialised = try Executables.run(
            "trm-train",
            ["init", "--preset", "tr-mamba2attn", "--task", "sudoku", "--grid", "4"]
                + CompileRunTests.small + ["-o", dir + "/null"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(Self.kind(dir + "/null") == S_IFCHR)
    }

    @Test func trainSaysWhichFilesItWrote() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.ckpt"
        let r = try Executables.run("trm-train", Self.train + ["--steps", "2", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let files = [out, out + ".state", out + ".metrics.jsonl", out + ".curve.svg"]
        #expect(r.stdout.contains("wrote " + files.joined(separator: ", ")), "\(r.stdout)")
        for file in files { #expect(Self.kind(file) == S_IFREG, "\(file)") }
    }

    @Test func interruptedTrainingSaysWhichFilesItSaved() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.ckpt"
        // MeasuredRun.Child starts the trainer with no signal blocked (Process children inherit the
        // test runner's blocked SIGINT and could never be interrupted).
        let child = try MeasuredRun.Child(
            "trm-train", Self.train + ["--steps", "100000", "--checkpoint-every", "1", "--eval-every", "0", "-o", out])
        try #require(MeasuredRun.waitForFile(out + ".state", seconds: 120), "trm-train never saved: \(child.stderrSoFar)")
        kill(child.pid, SIGINT)
        let r = child.wait(deadline: 60)
        try #require(!r.timedOut, "trm-train did not stop within 60 s of SIGINT")
        #expect(r.status == 130, "exit \(r.status): \(r.stderr)")
        let files = [out, out + ".state", out + ".metrics.jsonl", out + ".curve.svg"]
        #expect(r.stderr.contains("saved " + files.joined(separator: ", ") + " — rerun with --resume"), "\(r.stderr)")
        for file in files { #expect(Self.kind(file) == S_IFREG, "\(file)") }
    }

    @Test func generateWritesDevicesAndFifosInPlace() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["generate", "--task", "sudoku", "--size", "4", "--count", "3", "--seed", "5", "--threads", "1", "-q", "-o"]
        #expect(try Executables.run("trm-data", args + [dir + "/plain.csv"]).status == 0)
        let expected = try #require(Self.contents(dir + "/plain.csv"))

        try Self.charDevice(dir + "/null", minor: 3)
        let toNull = try Executables.run("trm-data", args + [dir + "/null"])
        #expect(toNull.status == 0, "\(toNull.stderr)")
        #expect(Self.kind(dir + "/null") == S_IFCHR)

        let fifo = dir + "/fifo"
        guard mkfifo(fifo, 0o644) == 0 else { throw TRMError(.io, "mkfifo failed") }
        let received = FIFOReader(fifo, timeout: 30)
        let toFifo = try Executables.run("trm-data", args + [fifo])
        #expect(toFifo.status == 0, "\(toFifo.stderr)")
        #expect(Data(received.finish()) == expected)
        #expect(Self.kind(fifo) == S_IFIFO)
        #expect(Self.names(dir) == ["fifo", "null", "plain.csv"])
    }

    @Test func benchRefusesJsonOverAModel() throws {
        let (dir, model) = try CompileRunTests.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try #require(Self.contents(model))
        let r = try Executables.run("trm-bench", ["--models", model, "--json", model, "--threads", "1", "--batch", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("output \(model) is the same file as the input \(model)"), "\(r.stderr)")
        #expect(!r.stderr.contains("peaks"), "refused before measuring")
        #expect(Self.contents(model) == before)
    }
}

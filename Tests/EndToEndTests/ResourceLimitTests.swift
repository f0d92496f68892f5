import Foundation
import GraphIR
import Testing
import TRMCore

/// Files and environments that claim more than they may (issue: hardening, second round): each is
/// refused before any large allocation or long work, and a starved process ends with an error
/// instead of a hang. Peak memory and wall time are read off the child with wait4.
@Suite struct ResourceLimitTests {
    /// A process that allocated nothing large stays well under this (a trm tool starts at ~30 MB).
    static let smallRSS = 200 << 20

    /// A small compiled Sudoku 4×4 model in a fresh directory.
    static func model() throws -> (dir: String, ckpt: String, trmg: String) {
        let (dir, trmg) = try CompileRunTests.model()
        return (dir, dir + "/m.ckpt", trmg)
    }

    /// The checkpoint at `path` with `edit` applied to its `trm.config` JSON object, written
    /// without validation (as a hostile tool would).
    static func forgeCheckpoint(_ path: String, to out: String, _ edit: (inout [String: Any]) -> Void) throws {
        let (tensors, metadata) = try Safetensors.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        var config = try JSONSerialization.jsonObject(with: Data(metadata["trm.config"]!.utf8)) as! [String: Any]
        edit(&config)
        var forged = metadata
        forged["trm.config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        try Data(Safetensors.serialize(tensors, metadata: forged)).write(to: URL(fileURLWithPath: out))
    }

    /// The model at `path` with `edit` applied to its plan, written without validation.
    static func forgeModel(_ path: String, to out: String, _ edit: (inout ModelPlan) -> Void) throws {
        var model = try TrmgReader.read(path: path)
        edit(&model.plan)
        try Data(try TrmgWriter.serialize(model)).write(to: URL(fileURLWithPath: out))
    }

    static func expectRefusedSmall(_ r: MeasuredRun, _ what: String, mentions: String) {
        #expect(!r.timedOut && r.signal == nil, "\(what): \(r.timedOut ? "hung" : "killed by signal \(r.signal ?? 0)")")
        #expect(r.status == 1, "\(what): exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(what): stderr does not mention '\(mentions)': \(r.stderr)")
        #expect(r.maxRSSBytes < smallRSS, "\(what): peak RSS \(r.maxRSSBytes >> 20) MiB")
        print("\(what): refused in \(String(format: "%.2f", r.seconds)) s, peak RSS \(r.maxRSSBytes >> 20) MiB")
    }

    /// The measurement itself can fail: initialising a 61-million-parameter model (about 245 MB of
    /// weights, held twice while written) is seen above the bound, refusing a file below it.
    @Test func peakMemoryIsTheToolsOwn() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let big = try MeasuredRun.run(
            "trm-train",
            [
                "init", "--preset", "trm-attn", "--task", "arc", "--hidden", "1536", "--heads", "12",
                "-o", dir + "/big.ckpt",
            ], deadline: 120)
        #expect(big.status == 0, "\(big.stderr)")
        #expect(big.maxRSSBytes > Self.smallRSS, "a 245 MB model measured at \(big.maxRSSBytes >> 20) MiB")
        let small = try MeasuredRun.run("trm-info", [dir + "/missing.ckpt"], deadline: 30)
        #expect(small.status == 1 && small.maxRSSBytes < Self.smallRSS, "trm-info on a missing file: \(small.maxRSSBytes >> 20) MiB")
        print("peak RSS: initialising a 61M-parameter model \(big.maxRSSBytes >> 20) MiB, a refused file \(small.maxRSSBytes >> 20) MiB")
    }

    /// Defect 3: H_cycles = L_cycles = 1e6 (and 200 × 200) in a 2 MB checkpoint.
    @Test func hugeCyclesAreRefusedBeforeAnyWork() throws {
        let (dir, ckpt, _) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (cycles, mentions) in [(1_000_000, "at most \(ModelLimits.maxCycles)"), (200, "sub-layer applications")] {
            let forged = dir + "/cycles\(cycles).ckpt"
            try Self.forgeCheckpoint(ckpt, to: forged) {
                $0["H_cycles"] = cycles; $0["L_cycles"] = cycles
            }
            Self.expectRefusedSmall(
                try MeasuredRun.run("trm-info", [forged], deadline: 30), "trm-info, \(cycles) cycles", mentions: mentions)
            Self.expectRefusedSmall(
                try MeasuredRun.run("trm-compile", [forged, "-o", dir + "/out.trmg"], deadline: 30),
                "trm-compile, \(cycles) cycles", mentions: mentions)
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.trmg"))
        }
    }

    /// Defect 4: a plan that declares a 10 GiB arena whose placements need a few hundred KB.
    @Test func inflatedArenaIsRefusedWithoutAllocating() throws {
        let (dir, _, trmg) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forged = dir + "/arena.trmg"
        try Self.forgeModel(trmg, to: forged) { $0.arenaBytesPerSample = 10 << 30 }
        try Npy.write(.int32([Int32](repeating: 1, count: 16)), shape: [1, 16], to: dir + "/tok.npy")
        Self.expectRefusedSmall(
            try MeasuredRun.run("trm-run", [forged, "--inputs", dir + "/tok.npy", "--out", dir + "/out"], deadline: 30),
            "trm-run, 10 GiB arena", mentions: "arena")
        Self.expectRefusedSmall(
            try MeasuredRun.run("trm-run", [forged, "--task", "sudoku", "--limit", "2"], deadline: 30),
            "trm-run --task, 10 GiB arena", mentions: "arena")
        Self.expectRefusedSmall(try MeasuredRun.run("trm-info", [forged], deadline: 30), "trm-info, 10 GiB arena", mentions: "arena")
        // A placement that claims more than its value, and one pushed far out, are refused the same way.
        try Self.forgeModel(trmg, to: forged) {
            $0.placements[0].offset = 8 << 30; $0.arenaBytesPerSample = (8 << 30) + $0.placements[0].bytesPerSample
        }
        Self.expectRefusedSmall(try MeasuredRun.run("trm-info", [forged], deadline: 30), "trm-info, far placement", mentions: "arena")
    }

    /// Defect 5: halt_max_steps = 1e6 in a .trmg, with and without a matching config.
    @Test func endlessHaltingIsRefused() throws {
        let (dir, _, trmg) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forged = dir + "/halt.trmg"
        try Self.forgeModel(trmg, to: forged) { $0.haltMaxSteps = 1_000_000 }
        Self.expectRefusedSmall(
            try MeasuredRun.run("trm-run", [forged, "--task", "sudoku", "--limit", "2"], deadline: 30),
            "trm-run, halt_max_steps 1e6", mentions: "halt_max_steps")
        try Self.forgeModel(trmg, to: forged) { plan in
            plan.haltMaxSteps = 1_000_000
            plan.configJSON = plan.configJSON.replacingOccurrences(of: #""halt_max_steps":2"#, with: #""halt_max_steps":1000000"#)
        }
        Self.expectRefusedSmall(
            try MeasuredRun.run("trm-info", [forged], deadline: 30), "trm-info, halt_max_steps 1e6 in both",
            mentions: "halt_max_steps")
        let steps = try MeasuredRun.run("trm-run", [trmg, "--task", "sudoku", "--limit", "2", "--steps", "1025"], deadline: 30)
        #expect(steps.status == 2 && steps.stderr.contains("--steps"), "\(steps.stderr)")
    }

    /// AddressSanitizer reserves terabytes of address space for its shadow memory, so a sanitized
    /// build cannot start under `ulimit -v` at all (`make test-asan` sets TRM_SANITIZED).
    static let unsanitized = ProcessInfo.processInfo.environment["TRM_SANITIZED"] == nil

    /// Defect 6: under an address-space limit trm-run ends with an error, not a spin or a trap.
    @Test(.enabled(if: unsanitized, "a sanitized build cannot run under ulimit -v"), arguments: [150_000, 200_000, 300_000])
    func addressSpaceLimitEndsInAnError(kilobytes: Int) throws {
        let (dir, _, trmg) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try MeasuredRun.run(
            "trm-run", [trmg, "--task", "sudoku", "--limit", "4", "--threads", "2"],
            shellPrefix: "ulimit -v \(kilobytes)", deadline: 60)
        #expect(!r.timedOut, "ulimit -v \(kilobytes): still running after 60 s (killed)")
        #expect(r.signal == nil, "ulimit -v \(kilobytes): killed by signal \(r.signal ?? 0)")
        #expect(r.status == 1, "ulimit -v \(kilobytes): exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("address space"), "ulimit -v \(kilobytes): \(r.stderr)")
        print(
            "ulimit -v \(kilobytes): exit \(r.status) in \(String(format: "%.2f", r.seconds)) s: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        )
    }

    /// With room enough, the same run under a limit completes (the buffers are taken up front).
    @Test(.enabled(if: unsanitized, "a sanitized build cannot run under ulimit -v"))
    func enoughAddressSpaceRuns() throws {
        let (dir, _, trmg) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try MeasuredRun.run(
            "trm-run", [trmg, "--task", "sudoku", "--limit", "4", "--threads", "2", "-q"],
            shellPrefix: "ulimit -v 1000000", deadline: 60)
        #expect(r.status == 0 && !r.timedOut, "\(r.stderr)")
    }
}

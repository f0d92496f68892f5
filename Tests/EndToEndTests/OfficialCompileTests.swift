import Foundation
import GraphIR
import Testing
import TestSupport
import TRMCore

/// trm-compile on official TinyRecursiveModels runs (docs/formats.md §1.5): a run directory and a
/// safetensors file with the official names compile to the very file our own checkpoint of the
/// same weights compiles to, and run; what cannot be run is refused with its reason.
@Suite struct OfficialCompileTests {
    /// A run directory (step_3 a PyTorch zip, step_12 the weights, all_config.yaml), a dataset
    /// folder and our checkpoint of the same weights, in a fresh directory.
    static func layout(_ run: OfficialRun, withIdentifiers: Bool) throws -> (dir: String, ours: Checkpoint) {
        let dir = try Executables.temporaryDirectory()
        let ours = run.checkpoint(withIdentifiers: withIdentifiers)
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        try Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 60)).write(to: URL(fileURLWithPath: dir + "/run/step_3"))
        try Data(run.officialSafetensors(ours)).write(to: URL(fileURLWithPath: dir + "/run/step_12"))
        try Data(run.yaml.utf8).write(to: URL(fileURLWithPath: dir + "/run/all_config.yaml"))
        try run.writeDataset(to: dir + "/data")
        try ours.write(to: dir + "/ours.ckpt")
        return (dir, ours)
    }

    static func compile(_ args: [String]) throws -> Executables.Result {
        try Executables.run("trm-compile", args)
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test(arguments: [false, true]) func aRunDirectoryCompilesLikeOurCheckpoint(mlpT: Bool) throws {
        let run = OfficialRun(mlpT: mlpT)
        let (dir, _) = try Self.layout(run, withIdentifiers: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.compile([dir + "/run", "-o", dir + "/official.trmg", "--dataset", dir + "/data"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("official     \(dir)/run/step_12 with \(dir)/run/all_config.yaml"), "\(r.stdout)")
        #expect(r.stdout.contains("ignored      tensors: _orig_mod.model.inner.rotary_emb.cos_cached"))
        #expect(r.stdout.contains("arch.loss (training only)"))
        let o = try Self.compile([dir + "/ours.ckpt", "-o", dir + "/ours.trmg"])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(try Self.bytes(dir + "/official.trmg") == Self.bytes(dir + "/ours.trmg"))
        let plan = try TrmgReader.read(path: dir + "/official.trmg").plan
        #expect(plan.taskJSON == TaskKind.sudoku.taskJSON(grid: 4) && plan.identifiers == run.identifiers)
        let info = try Executables.run("trm-info", [dir + "/official.trmg"])
        #expect(info.status == 0 && info.stdout.contains("trmg model"), "\(info.stdout)")
        try Npy.write(.int32([Int32](repeating: 2, count: 2 * 16)), shape: [2, 16], to: dir + "/tok.npy")
        try Npy.write(.int32([1, 2]), shape: [2], to: dir + "/ids.npy")
        let out = try Executables.run(
            "trm-run",
            [
                dir + "/official.trmg", "--inputs", dir + "/tok.npy", "--puzzle-ids", dir + "/ids.npy", "--out", dir + "/out", "--threads",
                "1",
            ])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try Npy.read(path: dir + "/out/logits.npy").shape == [2, 16, 6])
    }

    @Test func aSafetensorsFileWithItsConfigAndNoDataset() throws {
        let run = OfficialRun(mlpT: true)
        let (dir, _) = try Self.layout(run, withIdentifiers: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.moveItem(atPath: dir + "/run/step_12", toPath: dir + "/weights.safetensors")
        let r = try Self.compile([
            dir + "/weights.safetensors", "--config", dir + "/run/all_config.yaml", "-o", dir + "/official.trmg", "-q",
        ])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
        #expect(try Self.compile([dir + "/ours.ckpt", "-o", dir + "/ours.trmg", "-q"]).status == 0)
        #expect(try Self.bytes(dir + "/official.trmg") == Self.bytes(dir + "/ours.trmg"))
    }

    @Test func refusals() throws {
        var run = OfficialRun(mlpT: false)
        let (dir, ours) = try Self.layout(run, withIdentifiers: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = ["-o", dir + "/x.trmg"]
        func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        run.arch["name"] = "recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1"
        try write("singlez.yaml", Array(run.yaml.utf8))
        run = OfficialRun(mlpT: false)
        run.arch["use_lstm_gating"] = "true"
        try write("extra.yaml", Array(run.yaml.utf8))
        try write("missing.safetensors", OfficialRun(mlpT: false).officialSafetensors(ours, dropping: "q_head.bias"))
        try OfficialRun(mlpT: false).writeDataset(to: dir + "/fewer", identifiers: ["<blank>", "p1"])
        let config = dir + "/run/all_config.yaml"
        let cases: [([String], Int32, String)] = [
            ([dir + "/run/step_3", "--dataset", dir + "/data"], 1, "no end-of-central-directory record"),
            ([dir + "/run/step_12", "--config", dir + "/singlez.yaml"], 1, "arch.name (line 15) is 'recursive_reasoning.trm_singlez"),
            ([dir + "/run/step_12", "--config", dir + "/extra.yaml"], 1, "arch.use_lstm_gating (line 21) (set to true) is not a field"),
            ([dir + "/missing.safetensors", "--config", config, "--dataset", dir + "/data"], 1, "missing tensor 'q_head.bias'"),
            (
                [dir + "/run", "--dataset", dir + "/fewer"], 1,
                "identifiers.json names 2 puzzle identifiers, but the puzzle table has 3 rows"
            ),
            ([dir + "/run", "--dataset", dir + "/nope"], 1, "no test/dataset.json (the layout of TinyRecursiveModels' datasets)"),
            ([dir + "/run", "--task", "maze"], 1, "no tensor of this attention model gives seq_len"),
            ([dir + "/run", "--task", "chess"], 2, "--task must be one of arc, sudoku, maze"),
            ([dir + "/ours.ckpt", "--task", "sudoku"], 1, "is a trm checkpoint"),
            ([dir + "/ours.ckpt", "--config", config], 1, "is a trm checkpoint"),
            ([dir + "/run/all_config.yaml", "--config", config], 1, "neither a safetensors file nor a PyTorch zip"),
        ]
        for (args, status, message) in cases {
            let r = try Self.compile(args + out)
            #expect(r.status == status && r.stderr.contains(message), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.trmg"))
        let help = try Self.compile(["--help"]).stdout
        #expect(help.contains("--config") && help.contains("--dataset") && help.contains("official TinyRecursiveModels run"))
    }
}

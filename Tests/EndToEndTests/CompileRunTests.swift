import Foundation
import GraphIR
import Testing
import TRMCore

/// trm-compile and trm-run as a user runs them, including every kind of bad input.
@Suite struct CompileRunTests {
    static let small = [
        "--hidden", "32", "--heads", "4", "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "2",
        "--d-state", "8", "--headdim", "16", "--puzzle-emb-len", "2",
    ]

    /// A compiled small sudoku 4×4 model in a fresh directory.
    static func model() throws -> (dir: String, model: String) {
        let dir = try Executables.temporaryDirectory()
        let ckpt = dir + "/m.ckpt", model = dir + "/m.trmg"
        let r = try Executables.run(
            "trm-train", ["init", "--preset", "tr-mamba2attn", "--task", "sudoku", "--grid", "4"] + small + ["-o", ckpt])
        precondition(r.status == 0, r.stderr)
        let c = try Executables.run("trm-compile", [ckpt, "-o", model])
        precondition(c.status == 0, c.stderr)
        return (dir, model)
    }

    @Test func compileSummaryAndRun() throws {
        let (dir, model) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try Executables.run("trm-compile", [dir + "/m.ckpt", "-o", dir + "/again.trmg"]).stdout
        for key in ["sub-layers", "params", "nodes", "fused ops", "FLOPs", "arena"] { #expect(summary.contains(key)) }
        #expect(summary.contains("Mamba2ScanGate×4") && summary.contains("FusedAttention×2"))
        try Npy.write(.int32([Int32](repeating: 1, count: 3 * 16)), shape: [3, 16], to: dir + "/tok.npy")
        try Npy.write(.int32([0, 0, 0]), shape: [3], to: dir + "/ids.npy")
        let r = try Executables.run(
            "trm-run",
            [
                model, "--inputs", dir + "/tok.npy", "--puzzle-ids", dir + "/ids.npy", "--out", dir + "/out",
                "--batch", "2", "--threads", "1", "--halting", "adaptive",
            ])
        #expect(r.status == 0, "\(r.stderr)")
        let (logits, shape) = try Npy.read(path: dir + "/out/logits.npy")
        #expect(shape == [3, 16, 6])
        guard case .float32(let values) = logits else { Issue.record("logits are not float32"); return }
        #expect(values.allSatisfy { $0.isFinite })
        #expect(try Npy.read(path: dir + "/out/preds.npy").shape == [3, 16])
        #expect(try Npy.read(path: dir + "/out/q_halt.npy").shape == [3])
        #expect(try Executables.run("trm-info", [model]).stdout.contains("carry"))
    }

    @Test func badCompileInputs() throws {
        let (dir, _) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/bad.ckpt"))
        let cases: [([String], Int32)] = [
            ([], 2), ([dir + "/m.ckpt"], 2), ([dir + "/nope.ckpt", "-o", dir + "/x.trmg"], 1),
            ([dir + "/bad.ckpt", "-o", dir + "/x.trmg"], 1), ([dir + "/m.ckpt", "-o", dir + "/no/dir/x.trmg"], 1),
            ([dir + "/m.ckpt", "-o", dir + "/x.trmg", "--fuse-harder"], 2),
        ]
        for (args, status) in cases {
            let r = try Executables.run("trm-compile", args)
            #expect(r.status == status, "\(args): \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.trmg"))
    }

    @Test func badRunInputs() throws {
        let (dir, model) = try Self.model()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Npy.write(.int32([Int32](repeating: 1, count: 2 * 16)), shape: [2, 16], to: dir + "/ok.npy")
        try Npy.write(.float32([Float](repeating: 1, count: 2 * 16)), shape: [2, 16], to: dir + "/float.npy")
        try Npy.write(.int32([Int32](repeating: 1, count: 2 * 15)), shape: [2, 15], to: dir + "/short.npy")
        try Npy.write(.int32([Int32](repeating: 6, count: 2 * 16)), shape: [2, 16], to: dir + "/vocab.npy")
        try Npy.write(.int32([0, 5]), shape: [2], to: dir + "/ids.npy")
        try Npy.write(.int32([0]), shape: [1], to: dir + "/ids1.npy")
        try Data("\u{93}NUMPY junk".utf8).write(to: URL(fileURLWithPath: dir + "/junk.npy"))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: model)))
        try Data(bytes[0..<(bytes.count / 2)]).write(to: URL(fileURLWithPath: dir + "/half.trmg"))
        var flipped = bytes
        for i in stride(from: 40, to: 400, by: 7) { flipped[i] ^= 0x5A }
        try Data(flipped).write(to: URL(fileURLWithPath: dir + "/flipped.trmg"))
        let out = dir + "/out"
        let cases: [[String]] = [
            [model, "--inputs", dir + "/float.npy", "--out", out],
            [model, "--inputs", dir + "/short.npy", "--out", out],
            [model, "--inputs", dir + "/vocab.npy", "--out", out],
            [model, "--inputs", dir + "/junk.npy", "--out", out],
            [model, "--inputs", dir + "/missing.npy", "--out", out],
            [model, "--inputs", dir + "/ok.npy", "--puzzle-ids", dir + "/ids.npy", "--out", out],
            [model, "--inputs", dir + "/ok.npy", "--puzzle-ids", dir + "/ids1.npy", "--out", out],
            [dir + "/half.trmg", "--inputs", dir + "/ok.npy", "--out", out],
            [dir + "/flipped.trmg", "--inputs", dir + "/ok.npy", "--out", out],
            [dir + "/m.ckpt", "--inputs", dir + "/ok.npy", "--out", out],
            [model, "--inputs", dir + "/ok.npy"],
            [model, "--inputs", dir + "/ok.npy", "--out", out, "--halting", "sometimes"],
            [model, "--inputs", dir + "/ok.npy", "--out", out, "--batch", "0"],
        ]
        for args in cases {
            let r = try Executables.run("trm-run", args)
            #expect(r.status == 1 || r.status == 2, "\(args): status \(r.status)")
            #expect(!r.stderr.isEmpty && !r.stderr.contains("Fatal error"), "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

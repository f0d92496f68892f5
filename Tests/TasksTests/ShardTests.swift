import Foundation
import Tasks
import Testing
import TRMCore

/// The split rule, the candidate file (writer, reader, resume) and the merge's checks, in the library.
@Suite struct ShardTests {
    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in pieces of every size, the digest is the same.
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        var pieces = SHA256()
        var i = 0, step = 1
        while i < million.count {
            pieces.update(million[i..<min(i + step, million.count)])
            i += step
            step = step % 97 + 1
        }
        #expect(pieces.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func splitRangesAreContiguousBalancedAndCoverEveryQueryOnce() throws {
        for queries in [0, 1, 2, 7, 10, 54, 1001] {
            for count in [1, 2, 3, 7, 8, 13] {
                let ranges = try (0..<count).map { try ShardSpec(index: $0, count: count).range(queries: queries) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == queries)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(queries)/\(count)")
                let sizes = ranges.map(\.count)
                #expect(sizes.max()! - sizes.min()! <= 1, "\(queries)/\(count): \(sizes)")
            }
        }
        #expect(try ShardSpec(parsing: "2/3") == ShardSpec(index: 2, count: 3))
        for bad in ["3/3", "-1/2", "1/0", "a/b", "1", "1/2/3", ""] {
            #expect(throws: TRMError.self, "\(bad)") { try ShardSpec(parsing: bad) }
        }
    }

    @Test func shardsComeFromSlurmOrKubernetesEnvironments() throws {
        let slurm = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_MAX": "6"]
        #expect(try ShardSpec.fromEnvironment(slurm, count: nil) == ShardSpec(index: 2, count: 4))
        #expect(
            try ShardSpec.fromEnvironment(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2"], count: nil)
                == ShardSpec(index: 0, count: 2))
        #expect(try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "6"], count: 7) == ShardSpec(index: 6, count: 7))
        #expect(try ShardSpec.fromEnvironment([:], count: nil) == nil)
        var stepped = slurm
        stepped["SLURM_ARRAY_TASK_MAX"] = "9"  // --array=3-9:2
        #expect(throws: TRMError.self) { try ShardSpec.fromEnvironment(stepped, count: nil) }
        #expect(throws: TRMError.self) { try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: nil) }
        #expect(throws: TRMError.self) { try ShardSpec.fromEnvironment(["SLURM_ARRAY_TASK_ID": "1"], count: nil) }
    }

    // MARK: candidate files

    static let puzzles = [
        EvaluationPuzzle(name: "a", testInputs: [Grid([[1, 2]])!, Grid([[3]])!], testOutputs: [Grid([[2, 1]])!, Grid([[4]])!]),
        EvaluationPuzzle(name: "b\u{e9}\"", testInputs: [Grid([[5]])!], testOutputs: nil),
    ]

    /// Ten records whose votes tie on count, so the ranking depends on q_halt and on first-seen order.
    static let records: [CandidateRecord] = (0..<10).map { i in
        let answers: [Grid?] = [Grid([[2, 1]])!, Grid([[1, 2]])!, nil, Grid(rows: 0, cols: 0, cells: []), Grid([[9], [8]])!]
        return CandidateRecord(
            query: i, puzzle: i < 7 ? "a" : "b\u{e9}\"", testIndex: i < 7 ? i % 2 : 0, identifier: "id|||t\(i % 8)", answer: answers[i % 5],
            qHalt: i == 4 ? .nan : Float(i % 3) - 0.5, steps: 1 + i % 3, input: i == 9 ? Grid([[5]])! : nil)
    }

    static func header(_ shard: ShardSpec, model: String = "m", data: String = "d", flags: [String: String] = ["task": "arc"])
        -> CandidateHeader
    {
        CandidateHeader(
            model: .init(path: "model.trmg", sha256: SHA256.hex(Array(model.utf8))),
            data: .init(path: nil, sha256: SHA256.hex(Array(data.utf8))), shard: shard, queries: records.count, flags: flags,
            run: ["batch": "8"], title: "T", ks: [1, 2], submissionStyle: .sorted, puzzles: puzzles)
    }

    /// Writes shard `index` of `count` of `records` to `dir`, returning its path.
    static func writeShard(_ index: Int, of count: Int, in dir: String, model: String = "m", data: String = "d", upTo: Int? = nil)
        throws -> String
    {
        let path = dir + "/s\(index)-of-\(count)-\(model)-\(data).cand"
        let w = try CandidateWriter(path: path, header: header(try ShardSpec(index: index, count: count), model: model, data: data))
        let end = min(w.header.range.upperBound, w.header.range.lowerBound + (upTo ?? records.count))
        for r in records[min(w.next, end)..<end] { w.append(r) }
        try w.checkpoint()
        return path
    }

    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-shard-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func candidateFilesRoundTripAndResume() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.writeShard(1, of: 3, in: dir, upTo: 2)
        let partial = try CandidateFile.read(path: path)
        #expect(partial.records == Array(Self.records[3..<5]) && !partial.isComplete)
        #expect(partial.header.range == 3..<6 && partial.header.puzzles.map(\.name) == ["a", "b\u{e9}\""])
        #expect(partial.records[1].qHalt.isNaN && partial.records[0].answer == Grid(rows: 0, cols: 0, cells: []))

        // Reopened for the same shard of the same evaluation, it continues after the last record.
        let w = try CandidateWriter(path: path, header: Self.header(try ShardSpec(index: 1, count: 3)))
        #expect(w.resumed == 2 && w.next == 5 && !w.isComplete)
        w.append(Self.records[5])
        try w.checkpoint()
        let whole = try CandidateFile.read(path: path)
        #expect(whole.isComplete && whole.records == Array(Self.records[3..<6]))
        // The bytes before the trailer equal those of a shard written in one go.
        let other = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        let oneGo = try Self.writeShard(1, of: 3, in: other)
        func body(_ p: String) throws -> [UInt8] {
            let b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: p)))
            return Array(b[..<b.dropLast().lastIndex(of: 0x0A)!])
        }
        #expect(try body(path) == body(oneGo))

        // Another evaluation or another shard at the path is refused, and the file kept.
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for (header, words) in [
            (Self.header(try ShardSpec(index: 1, count: 3), model: "other"), "another model"),
            (Self.header(try ShardSpec(index: 1, count: 3), data: "other"), "other data"),
            (Self.header(try ShardSpec(index: 1, count: 3), flags: ["task": "arc", "seed": "1"]), "other flags (--seed not given, not 1)"),
            (
                Self.header(try ShardSpec(index: 1, count: 3), flags: ["task": "maze", "seed": "1"]),
                "other flags (--seed not given, not 1; --task arc, not maze):"
            ),
            (Self.header(try ShardSpec(index: 2, count: 3)), "holds shard 1/3, not 2/3"),
        ] {
            #expect {
                _ = try CandidateWriter(path: path, header: header)
            } throws: { e in
                (e as? TRMError).map { $0.message.contains(path) && $0.message.contains(words) } ?? false
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func truncatedDamagedAndForeignFilesAreRefusedByName() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.writeShard(0, of: 2, in: dir)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let cut = dir + "/cut.cand", flipped = dir + "/flipped.cand", junk = dir + "/junk.cand"
        try Data(bytes[..<(bytes.count - 30)]).write(to: URL(fileURLWithPath: cut))
        let lastRecord = bytes.dropLast().lastIndex(of: 0x0A)! - 5
        var damaged = bytes
        damaged[lastRecord] = damaged[lastRecord] == 0x31 ? 0x32 : 0x31
        try Data(damaged).write(to: URL(fileURLWithPath: flipped))
        try Data("{\"not\":1}\n".utf8).write(to: URL(fileURLWithPath: junk))
        for (file, words) in [(cut, "truncated"), (flipped, "damaged"), (junk, "not a candidate file")] {
            #expect {
                _ = try CandidateFile.read(path: file)
            } throws: { e in
                (e as? TRMError).map { $0.message.hasPrefix(file) && $0.message.contains(words) } ?? false
            }
        }
    }

    /// The single run's evaluation: every record added in query order.
    static func unsharded() -> Evaluation {
        var e = Evaluation(puzzles: puzzles, ks: [1, 2])
        e.add(contentsOf: records.map(\.prediction))
        return e
    }

    @Test func mergingAnyNumberOfShardsEqualsTheSingleRun() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let single = Self.unsharded()
        for count in [1, 2, 3, 7, 10] {
            // Given in any order.
            let paths = try (0..<count).map { try Self.writeShard($0, of: count, in: dir) }.reversed()
            let merged = try ShardMerge.merge(Array(paths))
            #expect(try merged.evaluation.submissionJSON() == single.submissionJSON(), "\(count) shards")
            #expect(merged.evaluation.passAtK().rate(1) == single.passAtK().rate(1))
            #expect(merged.evaluation.ranked(puzzle: "a").map { $0.map(\.answer) } == single.ranked(puzzle: "a").map { $0.map(\.answer) })
        }
        // The test can fail: the records in another order rank differently.
        var shuffled = Evaluation(puzzles: Self.puzzles, ks: [1, 2])
        shuffled.add(contentsOf: Self.records.reversed().map(\.prediction))
        #expect(try shuffled.submissionJSON() != single.submissionJSON())
    }

    @Test func mergeRefusesMissingDuplicatedUnfinishedAndForeignShardsByName() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try (0..<3).map { try Self.writeShard($0, of: 3, in: dir) }
        let foreignModel = try Self.writeShard(1, of: 3, in: dir, model: "other")
        let foreignData = try Self.writeShard(2, of: 3, in: dir, data: "other")
        let otherSplit = try Self.writeShard(1, of: 2, in: dir)
        let partialDir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: partialDir) }
        let partial = try Self.writeShard(2, of: 3, in: partialDir, upTo: 1)
        let cases: [([String], [String])] = [
            ([s[0], s[2]], ["shard 1/3", "missing"]),
            ([s[0], s[1], s[2], s[1]], [s[1], "both hold shard 1/3"]),
            ([s[0], s[1], partial], [partial, "unfinished", "1 of 4"]),
            ([s[0], foreignModel, s[2]], [foreignModel, "another model"]),
            ([s[0], s[1], foreignData], [foreignData, "other data"]),
            ([s[0], s[1], s[2], otherSplit], [otherSplit, "another split"]),
        ]
        for (paths, words) in cases {
            #expect {
                _ = try ShardMerge.merge(paths)
            } throws: { e in
                (e as? TRMError).map { m in words.allSatisfy { m.message.contains($0) } } ?? false
            }
        }
        // Status takes unfinished and missing shards, and counts them.
        let status = try ShardMerge.status([s[0], partial])
        #expect(status.done == 3 + 1 && status.total == 10)
        #expect(status.shards.map(\.done) == [3, 0, 1] && status.shards[1].path == nil)
    }
}

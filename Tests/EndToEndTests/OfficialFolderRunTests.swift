import Foundation
import GraphIR
import Tasks
import Testing
import TestSupport
import TRMCore

/// `trm-run --task T --data DIR` on folders in the reference's layout: the results are those of the
/// reference's rules applied to the model's own raw outputs for the folder's rows.
@Suite struct OfficialFolderRunTests {
    /// A small compiled ARC model whose identifier table is `identifiers`.
    static func arcModel(identifiers: [String], in dir: String) throws -> String {
        let ckpt = dir + "/arc.ckpt", model = dir + "/arc-\(identifiers.hashValue).trmg"
        let args = ["init", "--preset", "tr-mamba2attn", "--task", "arc", "--num-puzzle-ids", "\(identifiers.count)"]
        let r = try Executables.run("trm-train", args + CompileRunTests.small + ["-o", ckpt])
        precondition(r.status == 0, r.stderr)
        var checkpoint = try Checkpoint.read(path: ckpt)
        checkpoint.identifiers = identifiers
        try checkpoint.write(to: ckpt)
        let c = try Executables.run("trm-compile", [ckpt, "-o", model])
        precondition(c.status == 0, c.stderr)
        return model
    }

    /// The model's predictions and q_halt for every row of the folder's test split (raw mode, which
    /// reads the uint8 token file as it is), by row.
    static func rawOutputs(_ model: String, folder: OfficialFolder, dir: String, out: String) throws -> (preds: [[Int32]], q: [Float]) {
        try Npy.write(.int32(folder.rowIdentifiers), shape: [folder.rowIdentifiers.count], to: out + "-ids.npy")
        let r = try Executables.run(
            "trm-run",
            [
                model, "--inputs", dir + "/test/all__inputs.npy", "--puzzle-ids", out + "-ids.npy", "--out", out, "--batch", "1",
                "--threads", "1",
            ])
        precondition(r.status == 0, r.stderr)
        let (preds, shape) = try Npy.readInt32(path: out + "/preds.npy", what: "preds")
        guard case .float32(let q) = try Npy.read(path: out + "/q_halt.npy").values else { preconditionFailure("q_halt is not float32") }
        return ((0..<shape[0]).map { Array(preds[($0 * shape[1])..<(($0 + 1) * shape[1])]) }, q)
    }

    /// The evaluation of the raw outputs by the Tasks library, fed in the order trm-run feeds them.
    static func expected(
        queries: [(query: TaskQuery, row: Int32)], puzzles: [EvaluationPuzzle], folder: OfficialFolder, raw: (preds: [[Int32]], q: [Float])
    ) -> Evaluation {
        var rowsOf: [Int32: [Int]] = [:]
        for (r, id) in folder.rowIdentifiers.enumerated() { rowsOf[id, default: []].append(r) }
        var evaluation = Evaluation(puzzles: puzzles, ks: [1, 2, 5])
        var used: [Int32: Int] = [:]
        for (query, id) in queries {
            let r = rowsOf[id]![used[id, default: 0]]
            used[id, default: 0] += 1
            evaluation.add(
                Prediction(
                    puzzle: query.puzzle, testIndex: query.testIndex, answer: query.decode(raw.preds[r]), qHalt: raw.q[r],
                    input: query.voteInput))
        }
        return evaluation
    }

    static func passAtK(_ jsonPath: String) throws -> [String: Double] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jsonPath))) as! [String: Any]
        return json["pass_at_k"] as! [String: Double]
    }

    @Test func arcFolderGivesTheReferenceResultsOfTheModelsOutputs() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = OfficialFolder.arcFolder(), data = try folder.write()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let model = try Self.arcModel(identifiers: folder.identifiers, in: dir)
        let raw = try Self.rawOutputs(model, folder: folder, dir: data, out: dir + "/raw")
        let run = try Executables.run(
            "trm-run",
            [
                model, "--task", "arc", "--data", data, "--k", "1,2,5", "--submission", dir + "/s.json", "--json", dir + "/r.json",
                "--batch", "1", "--threads", "1",
            ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("ARC (official test split): 4 puzzles, 10 queries"))
        let task = try OfficialARCTask(try OfficialDataset.load(path: data))
        let e = Self.expected(
            queries: task.puzzles.flatMap(task.queries), puzzles: task.puzzles.map(\.evaluationPuzzle), folder: folder, raw: raw)
        let pass = try Self.passAtK(dir + "/r.json")
        #expect(pass == ["1": e.passAtK().rate(1), "2": e.passAtK().rate(2), "5": e.passAtK().rate(5)])
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/s.json")))
        #expect(written == (try e.submissionJSON(style: .reference)))
        #expect(String(decoding: written, as: UTF8.self).contains(#""c3": []"#))  // no candidates: no entry

        // --limit and --puzzles choose among test_puzzles.json, in its order or the list's.
        for (options, keys) in [(["--limit", "2"], ["b2", "a1"]), (["--puzzles", "d4,b2"], ["d4", "b2"])] {
            let r = try Executables.run(
                "trm-run", [model, "--task", "arc", "--data", data, "--submission", dir + "/sub.json", "-q", "--threads", "1"] + options)
            #expect(r.status == 0, "\(options): \(r.stderr)")
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/sub.json")), as: UTF8.self)
            #expect(keys.allSatisfy { text.contains("\"\($0)\": [") } && text.hasPrefix("{\"\(keys[0])\""), "\(options): \(text)")
            #expect(!text.contains("\"c3\""))
        }
    }

    @Test func refusesAModelWithOtherIdentifiersAndMalformedFolders() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = OfficialFolder.arcFolder(), data = try folder.write()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var renamed = folder.identifiers
        renamed[4] = "a1|||t5|||0123456789"
        let other = try Self.arcModel(identifiers: renamed, in: dir)
        let r = try Executables.run("trm-run", [other, "--task", "arc", "--data", data])
        #expect(
            r.status == 1 && r.stderr.contains("identifier 4 is 'a1|||t5|||0123456789' but \(data)/identifiers.json names it"),
            "\(r.stderr)")
        let model = try Self.arcModel(identifiers: folder.identifiers, in: dir)
        let usage = try Executables.run("trm-run", [model, "--task", "arc", "--data", data, "--num-aug", "3"])
        #expect(usage.status == 2 && usage.stderr.contains("--num-aug does not apply to an official dataset folder"))
        try FileManager.default.removeItem(atPath: data + "/test/all__group_indices.npy")
        let broken = try Executables.run("trm-run", [model, "--task", "arc", "--data", data])
        #expect(broken.status != 0 && broken.stderr.contains("\(data)/test/all__group_indices.npy"), "\(broken.stderr)")
    }

    @Test func sudokuFolderGivesTheExactAccuracyOfTheModelsOutputs() throws {
        let (dir, model) = try CompileRunTests.model()  // 4×4 Sudoku, no identifier table
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = OfficialFolder.sudokuFolder(), data = try folder.write()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let raw = try Self.rawOutputs(model, folder: folder, dir: data, out: dir + "/raw")
        let run = try Executables.run(
            "trm-run", [model, "--task", "sudoku", "--data", data, "--json", dir + "/r.json", "--batch", "1", "--threads", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Sudoku (official test split): 3 puzzles, 3 queries"))
        let task = OfficialGridTask(try OfficialDataset.load(path: data), prefix: "sudoku")
        let e = Self.expected(
            queries: (0..<task.count).map(task.query), puzzles: (0..<task.count).map(task.puzzle), folder: folder, raw: raw)
        #expect(try Self.passAtK(dir + "/r.json")["1"] == e.passAtK().rate(1))
        let one = try Executables.run("trm-run", [model, "--task", "sudoku", "--data", data, "--puzzles", "sudoku-2", "--threads", "1"])
        #expect(one.status == 0 && one.stdout.contains(": 1 puzzles, 1 queries"), "\(one.stderr)")
        let unknown = try Executables.run("trm-run", [model, "--task", "sudoku", "--data", data, "--puzzles", "sudoku-3"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no puzzle named 'sudoku-3'"))
    }
}

import Foundation
import TRMCore

/// The lines of a candidate file (docs/sharding.md): a JSON header line, one JSON line per record
/// and a JSON trailer line, each ending in a newline. Writing is deterministic, so the same
/// records give the same bytes.
enum CandidateCoding {
    /// A grid as `[rows, cols, [cells row-major]]` (exact for any shape, 0×0 included).
    static func grid(_ g: Grid) -> String {
        "[\(g.rows),\(g.cols),[" + g.cells.map { String($0) }.joined(separator: ",") + "]]"
    }

    static func gridObject(_ g: Grid) -> [Any] { [g.rows, g.cols, g.cells.map { Int($0) }] }

    /// A grid read back; nil unless it is `[rows, cols, cells]` with rows × cols cells in 0...255.
    static func grid(_ any: Any?) -> Grid? {
        guard let a = any as? [Any], a.count == 3, let r = a[0] as? Int, let c = a[1] as? Int, let cells = a[2] as? [Int],
            (0...CandidateGridLimit.side).contains(r), (0...CandidateGridLimit.side).contains(c), cells.count == r * c,
            cells.allSatisfy({ (0...255).contains($0) })
        else { return nil }
        return Grid(rows: r, cols: c, cells: cells.map { UInt8($0) })
    }

    static func puzzlesObject(_ puzzles: [EvaluationPuzzle]) -> [Any] {
        puzzles.map { p -> [String: Any] in
            ["name": p.name, "inputs": p.testInputs.map(gridObject), "outputs": p.testOutputs.map { $0.map(gridObject) } ?? NSNull()]
        }
    }

    static func puzzlesJSON(_ puzzles: [EvaluationPuzzle]) -> [UInt8] {
        json(puzzlesObject(puzzles))
    }

    static func json(_ object: Any) -> [UInt8] {
        // Only strings, integers, arrays, dictionaries and null go in, so serialization cannot fail.
        [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    static func headerLine(_ h: CandidateHeader) -> [UInt8] {
        let range = h.range
        let object: [String: Any] = [
            "format": CandidateHeader.format,
            "model": ["path": h.model.path ?? NSNull(), "sha256": h.model.sha256] as [String: Any],
            "data": ["path": h.data.path ?? NSNull(), "sha256": h.data.sha256] as [String: Any],
            "shard": h.shard.index, "shards": h.shard.count, "queries": h.queries, "first": range.lowerBound, "end": range.upperBound,
            "flags": h.flags, "run": h.run, "title": h.title, "ks": h.ks,
            "submission": h.submissionStyle == .reference ? "reference" : "sorted", "puzzles": puzzlesObject(h.puzzles),
        ]
        return json(object) + [0x0A]
    }

    static func recordLine(_ r: CandidateRecord) -> [UInt8] {
        let q = r.qHalt.isFinite ? "\(r.qHalt)" : "null"
        let text =
            "{\"q\":\(r.query),\"puzzle\":\(PythonJSON.string(r.puzzle)),\"test\":\(r.testIndex),\"id\":\(PythonJSON.string(r.identifier)),"
            + "\"answer\":\(r.answer.map(grid) ?? "null"),\"q_halt\":\(q),\"q_halt_bits\":\"\(String(format: "%08x", r.qHalt.bitPattern))\","
            + "\"steps\":\(r.steps),\"input\":\(r.input.map(grid) ?? "null")}\n"
        return Array(text.utf8)
    }

    static func trailerLine(queries: Int, complete: Bool, seconds: Double, batchSteps: Int, updated: Double, sha256: String) -> [UInt8] {
        let text =
            "{\"end\":{\"batch_steps\":\(batchSteps),\"complete\":\(complete),\"queries\":\(queries),"
            + "\"seconds\":\(String(format: "%.6f", seconds)),\"sha256\":\"\(sha256)\",\"updated\":\(String(format: "%.3f", updated))}}\n"
        return Array(text.utf8)
    }

    static func object(_ line: ArraySlice<UInt8>) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
    }

    static func record(_ o: [String: Any]) -> CandidateRecord? {
        guard let q = o["q"] as? Int, let puzzle = o["puzzle"] as? String, let test = o["test"] as? Int, let id = o["id"] as? String,
            let bitsText = o["q_halt_bits"] as? String, bitsText.count == 8, let bits = UInt32(bitsText, radix: 16),
            let steps = o["steps"] as? Int
        else { return nil }
        let answer = o["answer"] is NSNull ? nil : grid(o["answer"])
        let input = o["input"] is NSNull ? nil : grid(o["input"])
        guard answer != nil || o["answer"] is NSNull, input != nil || o["input"] is NSNull else { return nil }
        return CandidateRecord(
            query: q, puzzle: puzzle, testIndex: test, identifier: id, answer: answer, qHalt: Float(bitPattern: bits), steps: steps,
            input: input)
    }

    static func header(_ o: [String: Any], fail: (String) -> TRMError) throws -> CandidateHeader {
        func input(_ key: String) throws -> CandidateHeader.Input {
            guard let d = o[key] as? [String: Any], let hash = d["sha256"] as? String else { throw fail("its header names no \(key) hash") }
            return CandidateHeader.Input(path: d["path"] as? String, sha256: hash)
        }
        guard let index = o["shard"] as? Int, let count = o["shards"] as? Int, let queries = o["queries"] as? Int, queries >= 0 else {
            throw fail("its header has no shard, shards and queries")
        }
        let shard: ShardSpec
        do { shard = try ShardSpec(index: index, count: count) } catch let e as TRMError { throw fail(e.message) }
        let range = shard.range(queries: queries)
        guard o["first"] as? Int == range.lowerBound, o["end"] as? Int == range.upperBound else {
            throw fail("its header's query range is not shard \(shard)'s (\(range)) by the split rule")
        }
        guard let flags = o["flags"] as? [String: String], let run = o["run"] as? [String: String], let title = o["title"] as? String,
            let ks = o["ks"] as? [Int], !ks.isEmpty, let style = o["submission"] as? String, ["sorted", "reference"].contains(style)
        else { throw fail("its header lacks flags, run, title, ks or submission") }
        guard let list = o["puzzles"] as? [Any] else { throw fail("its header lists no puzzles") }
        var puzzles: [EvaluationPuzzle] = []
        for (i, item) in list.enumerated() {
            guard let p = item as? [String: Any], let name = p["name"] as? String, let inputs = p["inputs"] as? [Any] else {
                throw fail("puzzle \(i) of its header is malformed")
            }
            let testInputs = inputs.compactMap { grid($0) }
            let outputs = (p["outputs"] as? [Any]).map { $0.compactMap { grid($0) } }
            guard testInputs.count == inputs.count, p["outputs"] is NSNull || outputs?.count == (p["outputs"] as? [Any])?.count,
                outputs == nil || outputs?.count == testInputs.count
            else { throw fail("puzzle \(i) of its header has malformed grids") }
            puzzles.append(EvaluationPuzzle(name: name, testInputs: testInputs, testOutputs: outputs))
        }
        return CandidateHeader(
            model: try input("model"), data: try input("data"), shard: shard, queries: queries, flags: flags, run: run, title: title,
            ks: ks, submissionStyle: style == "reference" ? .reference : .sorted, puzzles: puzzles)
    }
}

/// The largest side a recorded grid may have (ARC's 30, Sudoku's 9, a Maze's 30, an official
/// folder's token rows): well above all of them, to refuse absurd sizes before allocating.
enum CandidateGridLimit {
    static let side = 4096
}

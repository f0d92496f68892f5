import Foundation
import Tasks
import TRMCore

/// Official-format dataset folders written by hand, as the reference's builders lay them out:
/// `test/dataset.json`, `test/all__*.npy` (uint8 tokens, int32 indices), `identifiers.json` and,
/// for ARC, `test_puzzles.json`.
public struct OfficialFolder {
    public typealias Puzzle = (identifier: Int32, rows: [(input: [UInt8], label: [UInt8])])
    public var metadata: [String: Any]
    /// Per puzzle of the test split: its identifier and its rows' (input, label) tokens.
    public var puzzles: [Puzzle]
    /// Puzzles per group, in order.
    public var groupSizes: [Int]
    public var identifiers: [String]
    /// The text of `test_puzzles.json`, or nil for none.
    public var testPuzzles: String?

    /// Writes the folder into a fresh temporary directory and returns its path.
    public func write() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("official-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/test", withIntermediateDirectories: true)
        try json(metadata).write(toFile: root + "/test/dataset.json", atomically: true, encoding: .utf8)
        try json(identifiers).write(toFile: root + "/identifiers.json", atomically: true, encoding: .utf8)
        if let testPuzzles { try testPuzzles.write(toFile: root + "/test_puzzles.json", atomically: true, encoding: .utf8) }
        let rows = puzzles.flatMap(\.rows)
        let seqLen = rows.first?.input.count ?? 0
        try Npy.write(.uint8(rows.flatMap(\.input)), shape: [rows.count, seqLen], to: root + "/test/all__inputs.npy")
        try Npy.write(.uint8(rows.flatMap(\.label)), shape: [rows.count, seqLen], to: root + "/test/all__labels.npy")
        try Npy.write(.int32(puzzles.map(\.identifier)), shape: [puzzles.count], to: root + "/test/all__puzzle_identifiers.npy")
        let ends = puzzles.reduce(into: [Int32(0)]) { $0.append($0.last! + Int32($1.rows.count)) }
        try Npy.write(.int32(ends), shape: [ends.count], to: root + "/test/all__puzzle_indices.npy")
        let groups = groupSizes.reduce(into: [Int32(0)]) { $0.append($0.last! + Int32($1)) }
        try Npy.write(.int32(groups), shape: [groups.count], to: root + "/test/all__group_indices.npy")
        return root
    }

    private func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The identifier of every row, in file order (what raw mode's `--puzzle-ids` takes).
    public var rowIdentifiers: [Int32] { puzzles.flatMap { p in p.rows.map { _ in p.identifier } } }

    /// The metadata the builders write.
    public static func metadata(seqLen: Int, vocab: Int, identifiers: Int, groups: Int, puzzles: Int) -> [String: Any] {
        [
            "pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": vocab, "seq_len": seqLen,
            "num_puzzle_identifiers": identifiers, "total_groups": groups, "mean_puzzle_examples": 1.5, "total_puzzles": puzzles,
            "sets": ["all"],
        ]
    }

    /// ARC tokens of a grid written by hand (at the origin, EOS right and below).
    public static func arc(_ rows: [[Int]]) -> [UInt8] { ARCEncoding.encode(Grid(rows)!).map { UInt8($0) } }

    /// 900 PAD tokens: a prediction whose crop is 0×0.
    public static let empty = [UInt8](repeating: 0, count: 900)

    /// The ARC folder of `OfficialARCTests` (answers worked out there):
    /// - b2: one pair, [[1,2],[3,4]] -> [[4,3],[2,1]]; versions: identity (id 1) and
    ///   `t1` (rot90) with colours 1->2, 2->3, 3->1 (id 2), whose rows are written out by hand.
    /// - a1: pairs [[5]] -> [[6]] and [[7,8]] -> [[8,7]]; identity (id 3) and a left-right flip (id 4).
    /// - c3: one pair [[1]] -> [[2]] and no rows of its own; a blank-identifier puzzle carries its input.
    /// - d4: two pairs with the same input [[3]] (answers [[4]] and [[5]]); identity (id 7) and an
    ///   up-down flip (id 8).
    /// Identifier 6 names a version no test row uses.
    public static func arcFolder(blankRowsIdentifier: Int32 = 0) -> OfficialFolder {
        let identifiers = [
            "<blank>", "b2", "b2|||t1|||0231456789", "a1", "a1|||t4|||0123456789", "c3", "zz|||t3|||0987654321", "d4",
            "d4|||t5|||0123456789",
        ]
        let puzzles: [Puzzle] = [
            (1, [(arc([[1, 2], [3, 4]]), arc([[4, 3], [2, 1]]))]),
            (2, [(arc([[3, 4], [2, 1]]), arc([[1, 2], [4, 3]]))]),
            (3, [(arc([[5]]), arc([[6]])), (arc([[7, 8]]), arc([[8, 7]]))]),
            (4, [(arc([[5]]), arc([[6]])), (arc([[8, 7]]), arc([[7, 8]]))]),
            (blankRowsIdentifier, [(arc([[1]]), arc([[2]]))]),
            (7, [(arc([[3]]), arc([[4]])), (arc([[3]]), arc([[5]]))]),
            (8, [(arc([[3]]), arc([[4]])), (arc([[3]]), arc([[5]]))]),
        ]
        let testPuzzles = """
            {"b2": {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}]},
             "a1": {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[5]], "output": [[6]]}, {"input": [[7, 8]], "output": [[8, 7]]}]},
             "c3": {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[2]]}]},
             "d4": {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[3]], "output": [[4]]}, {"input": [[3]], "output": [[5]]}]}}
            """
        return OfficialFolder(
            metadata: metadata(seqLen: 900, vocab: 12, identifiers: identifiers.count, groups: 4, puzzles: puzzles.count),
            puzzles: puzzles, groupSizes: [2, 2, 1, 2], identifiers: identifiers, testPuzzles: testPuzzles)
    }

    /// A 4×4 Sudoku test split (seq_len 16, vocab 6): three puzzles and a row whose labels are all
    /// ignored. Row 2's label ignores position 15.
    public static func sudokuFolder() -> OfficialFolder {
        let solution: [UInt8] = [1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1].map { $0 + 1 }
        var question = solution
        for i in [0, 5, 10, 15] { question[i] = 1 }
        var partial = solution
        partial[15] = 0
        let puzzles: [Puzzle] = [
            (0, [(question, solution)]), (0, [(question, solution)]), (0, [(question, partial)]),
            (0, [([UInt8](repeating: 0, count: 16), [UInt8](repeating: 0, count: 16))]),
        ]
        return OfficialFolder(
            metadata: metadata(seqLen: 16, vocab: 6, identifiers: 1, groups: 4, puzzles: 4), puzzles: puzzles,
            groupSizes: [1, 1, 1, 1], identifiers: ["<blank>"], testPuzzles: nil)
    }
}

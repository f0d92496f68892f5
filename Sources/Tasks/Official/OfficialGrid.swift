import TRMCore

/// Exact accuracy over an official Sudoku or Maze test split, as the reference's loss head counts it
/// (`models/losses.py`, docs/tasks.md §7.4): every row is one puzzle with one test pair, queried as
/// stored with its puzzle's identifier; it is right when the prediction equals the label at every
/// position whose label is not `ignore_label_id`, and rows whose every label is ignored are not
/// counted. Grids hold tokens (side × side when `seq_len` is a square, else one row); ignored
/// positions read 0 in both the truth and the answer, so `Evaluation`'s pass@1 is the exact accuracy.
public struct OfficialGridTask: Sendable {
    struct Row: Sendable {
        var set: Int
        var row: Int
        var identifier: Int
    }

    /// The folder.
    public let dataset: OfficialDataset
    /// The rows counted, in split order.
    private let rows: [Row]
    /// Puzzle names: `<prefix>-<row>`, the row numbered across the sets in order.
    public let names: [String]
    private let shape: (rows: Int, cols: Int)

    /// Indexes the rows of the test split; `prefix` names them (`sudoku`, `maze`).
    public init(_ dataset: OfficialDataset, prefix: String) {
        let n = dataset.metadata.seqLen
        let side = Int(Double(n).squareRoot())
        shape = side * side == n ? (side, side) : (1, n)
        let ignore = dataset.metadata.ignoreLabelId
        var rows: [Row] = []
        var names: [String] = []
        var base = 0
        for (s, set) in dataset.sets.enumerated() {
            for p in 0..<set.puzzleCount {
                for r in set.rows(ofPuzzle: p) where set.label(row: r).contains(where: { Int($0) != ignore }) {
                    rows.append(Row(set: s, row: r, identifier: set.puzzleIdentifiers[p]))
                    names.append("\(prefix)-\(base + r)")
                }
            }
            base += set.rowCount
        }
        self.dataset = dataset
        self.rows = rows
        self.names = names
    }

    public var count: Int { rows.count }

    /// Puzzle i: its input tokens and its label with the ignored positions set to 0.
    public func puzzle(_ i: Int) -> EvaluationPuzzle {
        let r = rows[i], set = dataset.sets[r.set]
        let label = set.label(row: r.row)
        return EvaluationPuzzle(
            name: names[i], testInputs: [grid(Array(set.input(row: r.row)))],
            testOutputs: [grid(masked(label.map(Int32.init), label: label)!)])
    }

    /// The one query of puzzle i with its puzzle-embedding row; the decoder reads the predicted tokens
    /// (nil when a token is over 255, so it cannot equal a label) with the ignored positions set to 0.
    public func query(_ i: Int) -> (query: TaskQuery, row: Int32) {
        let r = rows[i], set = dataset.sets[r.set]
        let label = Array(set.label(row: r.row))
        let shape = self.shape
        let ignore = dataset.metadata.ignoreLabelId
        let query = TaskQuery(
            puzzle: names[i], testIndex: 0, identifier: dataset.identifiers[r.identifier],
            tokens: set.input(row: r.row).map(Int32.init),
            decode: { tokens in
                Self.masked(tokens, label: label, ignore: ignore).map { Grid(rows: shape.rows, cols: shape.cols, cells: $0) }
            })
        return (query, Int32(r.identifier))
    }

    private func grid(_ cells: [UInt8]) -> Grid { Grid(rows: shape.rows, cols: shape.cols, cells: cells) }

    private func masked<C: Collection>(_ tokens: [Int32], label: C) -> [UInt8]? where C.Element == UInt8 {
        Self.masked(tokens, label: Array(label), ignore: dataset.metadata.ignoreLabelId)
    }

    /// `tokens` as bytes with 0 wherever the label is ignored; nil for a wrong length or a token
    /// outside 0...255.
    static func masked(_ tokens: [Int32], label: [UInt8], ignore: Int?) -> [UInt8]? {
        guard tokens.count == label.count else { return nil }
        var out = [UInt8](repeating: 0, count: tokens.count)
        for i in tokens.indices where Int(label[i]) != ignore {
            guard (0...255).contains(tokens[i]) else { return nil }
            out[i] = UInt8(tokens[i])
        }
        return out
    }
}

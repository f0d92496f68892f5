import TRMCore

/// The reference's ARC evaluation (`evaluators/arc.py`) over an official folder, as queries for
/// `Evaluation` (docs/tasks.md §7.3). The test split's rows are the queries, each with its puzzle's
/// identifier; rows whose identifier is the blank one are padding and skipped. A row's identifier
/// name gives its original puzzle and version (`<puzzle>|||t<k>|||<colour map>`), whose inverse
/// takes the cropped prediction back to the original frame; votes are keyed by (original puzzle,
/// de-augmented cropped input), so they land on every test pair with that input. A prediction whose
/// crop is 0×0 is a candidate (it is never right), as in the reference.
public struct OfficialARCTask: Sendable {
    /// One query row and the version its identifier names.
    struct Row: Sendable {
        var at: OfficialRow
        var version: ARCVersion
    }

    /// The folder.
    public let dataset: OfficialDataset
    /// The puzzles scored: `test_puzzles.json`, in file order (the reference's order).
    public let puzzles: [ARCPuzzle]
    /// The rows of each original puzzle, in the order the reference feeds them.
    private let rows: [String: [Row]]

    /// Indexes the test split. Throws (naming the file) without `test_puzzles.json`, when the
    /// sequences are not 30×30 with 12 tokens, or when a row's identifier name does not parse.
    public init(_ dataset: OfficialDataset) throws {
        let m = dataset.metadata
        let metadataFile = dataset.path + "/" + OfficialDataset.split + "/dataset.json"
        guard let puzzles = dataset.testPuzzles else {
            throw TRMError(.invalidInput, "\(dataset.path)/test_puzzles.json: no such file (the ARC builder writes it)")
        }
        guard m.seqLen == ARCEncoding.seqLen, m.vocabSize == ARCEncoding.vocabSize else {
            throw TRMError(
                .invalidInput,
                "\(metadataFile): seq_len \(m.seqLen) and vocab_size \(m.vocabSize) are not ARC's \(ARCEncoding.seqLen) and \(ARCEncoding.vocabSize)"
            )
        }
        var versions: [Int: (String, ARCVersion)] = [:]
        var rows: [String: [Row]] = [:]
        for (s, set) in dataset.sets.enumerated() {
            for p in 0..<set.puzzleCount where set.puzzleIdentifiers[p] != m.blankIdentifierId {
                let id = set.puzzleIdentifiers[p]
                if versions[id] == nil {
                    guard let parsed = ARCVersion.parse(dataset.identifiers[id]) else {
                        throw TRMError(
                            .invalidInput,
                            "\(dataset.path)/identifiers.json: identifier \(id) '\(dataset.identifiers[id])' is not <puzzle>|||t<0-7>|||<10-digit colour permutation>"
                        )
                    }
                    versions[id] = parsed
                }
                let (puzzle, version) = versions[id]!
                rows[puzzle, default: []] += set.rows(ofPuzzle: p).map {
                    Row(at: OfficialRow(set: s, row: $0, identifier: id), version: version)
                }
            }
        }
        self.dataset = dataset
        self.puzzles = puzzles
        self.rows = rows
    }

    /// Number of query rows of `puzzle` (0 for a puzzle the split has no rows of).
    public func queryCount(_ puzzle: String) -> Int { rows[puzzle]?.count ?? 0 }

    /// The queries of one original puzzle, in split order, each with its puzzle-embedding row: the
    /// row's tokens as stored, its identifier, the de-augmented cropped input as the vote key and a
    /// decoder that crops the prediction and undoes the version.
    public func queries(for puzzle: ARCPuzzle) -> [(query: TaskQuery, row: Int32)] {
        (rows[puzzle.name] ?? []).map { row in
            let r = row.at, version = row.version
            let tokens = dataset.sets[r.set].input(row: r.row).map(Int32.init)
            let input = version.invert(ARCEncoding.crop(tokens))
            let query = TaskQuery(
                puzzle: puzzle.name, testIndex: puzzle.test.firstIndex { $0.input == input } ?? 0,
                identifier: dataset.identifiers[r.identifier], tokens: tokens, voteInput: input,
                decode: { $0.count == ARCEncoding.seqLen ? version.invert(ARCEncoding.crop($0)) : nil })
            return (query, Int32(r.identifier))
        }
    }
}

/// Exact accuracy over an official Sudoku or Maze test split, as the reference's loss head counts it
/// (`models/losses.py`, docs/tasks.md §7.4): every row is one puzzle with one test pair, queried as
/// stored with its puzzle's identifier; it is right when the prediction equals the label at every
/// position whose label is not `ignore_label_id`, and rows whose every label is ignored are not
/// counted. Grids hold tokens (side × side when `seq_len` is a square, else one row); ignored
/// positions read 0 in both the truth and the answer, so `Evaluation`'s pass@1 is the exact accuracy.
public struct OfficialGridTask: Sendable {
    /// The folder.
    public let dataset: OfficialDataset
    /// The rows counted, in split order.
    private let rows: [OfficialRow]
    /// Puzzle names: `<prefix>-<row>`, the row numbered across the sets in order.
    public let names: [String]
    private let shape: (rows: Int, cols: Int)

    /// Indexes the rows of the test split; `prefix` names them (`sudoku`, `maze`).
    public init(_ dataset: OfficialDataset, prefix: String) {
        let n = dataset.metadata.seqLen
        let side = Int(Double(n).squareRoot())
        shape = side * side == n ? (side, side) : (1, n)
        let ignore = dataset.metadata.ignoreLabelId
        var rows: [OfficialRow] = []
        var names: [String] = []
        var base = 0
        for (s, set) in dataset.sets.enumerated() {
            for p in 0..<set.puzzleCount {
                for r in set.rows(ofPuzzle: p) where set.label(row: r).contains(where: { Int($0) != ignore }) {
                    rows.append(OfficialRow(set: s, row: r, identifier: set.puzzleIdentifiers[p]))
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

/// Where a query row is: its set, its row in the set and its puzzle's identifier.
struct OfficialRow: Sendable {
    var set: Int
    var row: Int
    var identifier: Int
}

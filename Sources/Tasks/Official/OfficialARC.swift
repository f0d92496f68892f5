import TRMCore

/// The reference's ARC evaluation (`evaluators/arc.py`) over an official folder, as queries for
/// `Evaluation` (docs/tasks.md §7.3). The test split's rows are the queries, each with its puzzle's
/// identifier; rows whose identifier is the blank one are padding and skipped. A row's identifier
/// name gives its original puzzle and version (`<puzzle>|||t<k>|||<colour map>`), whose inverse
/// takes the cropped prediction back to the original frame; votes are keyed by (original puzzle,
/// de-augmented cropped input), so they land on every test pair with that input. A prediction whose
/// crop is 0×0 is a candidate (it is never right), as in the reference.
public struct OfficialARCTask: Sendable {
    /// One query row: where it is and the version its identifier names.
    struct Row: Sendable {
        var set: Int
        var row: Int
        var identifier: Int
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
                rows[puzzle, default: []] += set.rows(ofPuzzle: p).map { Row(set: s, row: $0, identifier: id, version: version) }
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
        (rows[puzzle.name] ?? []).map { r in
            let tokens = dataset.sets[r.set].input(row: r.row).map(Int32.init)
            let version = r.version
            let input = version.invert(ARCEncoding.crop(tokens))
            let query = TaskQuery(
                puzzle: puzzle.name, testIndex: puzzle.test.firstIndex { $0.input == input } ?? 0,
                identifier: dataset.identifiers[r.identifier], tokens: tokens, voteInput: input,
                decode: { $0.count == ARCEncoding.seqLen ? version.invert(ARCEncoding.crop($0)) : nil })
            return (query, Int32(r.identifier))
        }
    }
}

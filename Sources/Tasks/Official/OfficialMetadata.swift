import TRMCore

/// A split's `dataset.json`: the reference's `PuzzleDatasetMetadata` (`dataset/common.py`), as its
/// builders write it (docs/tasks.md §7.1).
public struct OfficialMetadata: Sendable, Equatable {
    /// Token of padding (0 in every builder).
    public var padId: Int
    /// Label value the loss ignores (0 in every builder: PAD), or nil when every label counts.
    public var ignoreLabelId: Int?
    /// Puzzle identifier of padding rows (0, named `<blank>`).
    public var blankIdentifierId: Int
    public var vocabSize: Int
    public var seqLen: Int
    /// Rows of the puzzle-embedding table, `<blank>` included (the length of `identifiers.json`).
    public var numPuzzleIdentifiers: Int
    /// Informational: the reference's test loop reads the arrays, not these three.
    public var totalGroups: Int
    public var meanPuzzleExamples: Double
    public var totalPuzzles: Int
    /// The sets of the split: the files are `<set>__<array>.npy` (the builders write one, `all`).
    public var sets: [String]

    public init(
        padId: Int, ignoreLabelId: Int?, blankIdentifierId: Int, vocabSize: Int, seqLen: Int, numPuzzleIdentifiers: Int,
        totalGroups: Int, meanPuzzleExamples: Double, totalPuzzles: Int, sets: [String]
    ) {
        self.padId = padId
        self.ignoreLabelId = ignoreLabelId
        self.blankIdentifierId = blankIdentifierId
        self.vocabSize = vocabSize
        self.seqLen = seqLen
        self.numPuzzleIdentifiers = numPuzzleIdentifiers
        self.totalGroups = totalGroups
        self.meanPuzzleExamples = meanPuzzleExamples
        self.totalPuzzles = totalPuzzles
        self.sets = sets
    }

    /// Largest vocabulary read: tokens are kept as bytes, as the reference stores them.
    public static let maxVocab = 256

    /// Parses `dataset.json`; `file` names it in errors. Every field must be present with the type
    /// pydantic would accept (integers for the counts, an integer or null for `ignore_label_id`, a
    /// number for `mean_puzzle_examples`, a list of set names), and the ids must be in range:
    /// `pad_id` below `vocab_size` (at most 256), `blank_identifier_id` below `num_puzzle_identifiers`.
    public static func parse(_ bytes: [UInt8], file: String) throws -> OfficialMetadata {
        let root = try ARCDataset.json(bytes, file: file)
        func fail(_ message: String) -> TRMError { TRMError(.invalidInput, "\(file): \(message)") }
        guard case .object = root else { throw fail("is \(root.kind), expected an object") }
        func int(_ key: String, nullable: Bool = false) throws -> Int? {
            switch root[key] {
            case .int(let v)?: return v
            case .null? where nullable: return nil
            case nil: throw fail("has no \"\(key)\"")
            case let v?: throw fail("\"\(key)\" is \(v.kind), expected an integer")
            }
        }
        func count(_ key: String, from low: Int) throws -> Int {
            let v = try int(key)!
            guard v >= low else { throw fail("\"\(key)\" is \(v), expected at least \(low)") }
            return v
        }
        // Fields in the order the reference declares them, so the first problem is the one reported.
        let padId = try count("pad_id", from: 0), ignoreLabelId = try int("ignore_label_id", nullable: true)
        let blankIdentifierId = try count("blank_identifier_id", from: 0), vocabSize = try count("vocab_size", from: 1)
        let seqLen = try count("seq_len", from: 1), numPuzzleIdentifiers = try count("num_puzzle_identifiers", from: 1)
        let totalGroups = try count("total_groups", from: 0)
        let mean: Double
        switch root["mean_puzzle_examples"] {
        case .int(let v)?: mean = Double(v)
        case .number(let text)?: mean = Double(text) ?? .nan
        case nil: throw fail("has no \"mean_puzzle_examples\"")
        case let v?: throw fail("\"mean_puzzle_examples\" is \(v.kind), expected a number")
        }
        let totalPuzzles = try count("total_puzzles", from: 0)
        guard case .array(let list)? = root["sets"] else { throw fail("\"sets\" is missing or not a list") }
        let sets = try list.map { item -> String in
            guard case .string(let s) = item, !s.isEmpty, !s.contains("/"), s != "." && s != ".." else {
                throw fail("\"sets\" holds \(item.kind == "a string" ? "a set name that is not a file name" : item.kind)")
            }
            return s
        }
        guard !sets.isEmpty else { throw fail("\"sets\" is empty") }
        let m = OfficialMetadata(
            padId: padId, ignoreLabelId: ignoreLabelId, blankIdentifierId: blankIdentifierId, vocabSize: vocabSize, seqLen: seqLen,
            numPuzzleIdentifiers: numPuzzleIdentifiers, totalGroups: totalGroups, meanPuzzleExamples: mean, totalPuzzles: totalPuzzles,
            sets: sets)
        guard m.vocabSize <= maxVocab else { throw fail("\"vocab_size\" is \(m.vocabSize); trm reads at most \(maxVocab) tokens") }
        guard m.padId < m.vocabSize else { throw fail("\"pad_id\" \(m.padId) is not below \"vocab_size\" \(m.vocabSize)") }
        guard m.seqLen <= TensorLimits.maxDim else { throw fail("\"seq_len\" \(m.seqLen) is too large") }
        guard m.blankIdentifierId < m.numPuzzleIdentifiers else {
            throw fail("\"blank_identifier_id\" \(m.blankIdentifierId) is not below \"num_puzzle_identifiers\" \(m.numPuzzleIdentifiers)")
        }
        return m
    }
}

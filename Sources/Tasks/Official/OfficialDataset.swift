import Foundation
import TRMCore

/// One set of a split (`<set>__<array>.npy`), as the reference's builders write it: rows of
/// `seqLen` tokens, grouped into puzzles (one puzzle-embedding identifier each), grouped into groups
/// (an original puzzle and its augmented versions).
public struct OfficialSet: Sendable {
    public var name: String
    public var seqLen: Int
    /// rows × seqLen input tokens (`inputs`, uint8).
    public var inputs: [UInt8]
    /// rows × seqLen label tokens (`labels`, uint8).
    public var labels: [UInt8]
    /// The identifier of each puzzle (`puzzle_identifiers`, int32).
    public var puzzleIdentifiers: [Int]
    /// Puzzle p holds rows puzzleIndices[p]..<puzzleIndices[p + 1] (`puzzle_indices`, int32).
    public var puzzleIndices: [Int]
    /// Group g holds puzzles groupIndices[g]..<groupIndices[g + 1] (`group_indices`, int32).
    public var groupIndices: [Int]

    public var rowCount: Int { inputs.count / max(seqLen, 1) }
    public var puzzleCount: Int { puzzleIdentifiers.count }
    public func rows(ofPuzzle p: Int) -> Range<Int> { puzzleIndices[p]..<puzzleIndices[p + 1] }
    public func input(row r: Int) -> ArraySlice<UInt8> { inputs[(r * seqLen)..<((r + 1) * seqLen)] }
    public func label(row r: Int) -> ArraySlice<UInt8> { labels[(r * seqLen)..<((r + 1) * seqLen)] }
}

/// A dataset folder built by the reference TRM code (`dataset/build_{arc,sudoku,maze}_dataset.py`):
/// `test/dataset.json`, the test split's arrays, `identifiers.json` and, for ARC, `test_puzzles.json`
/// (docs/tasks.md §7). Only the test split is read.
public struct OfficialDataset: Sendable {
    /// The folder.
    public var path: String
    /// `test/dataset.json`.
    public var metadata: OfficialMetadata
    /// The test split's sets, in the order `metadata.sets` lists them (the order the reference runs them).
    public var sets: [OfficialSet]
    /// `identifiers.json`: the name of each puzzle-embedding row (index 0 `<blank>`).
    public var identifiers: [String]
    /// `test_puzzles.json` (ARC), in file order; nil when the folder has none.
    public var testPuzzles: [ARCPuzzle]?

    /// The split read.
    public static let split = "test"
    /// The arrays of a set, as `<set>__<name>.npy`.
    public static let arrays = ["inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"]

    /// True when `path` is a folder with `test/dataset.json`: the reference's layout.
    public static func isOfficialFolder(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path + "/" + split + "/dataset.json", isDirectory: &isDir) && !isDir.boolValue
    }

    /// Reads and validates the folder. Every error names its file: a missing file; malformed JSON or
    /// metadata; an array of the wrong dtype (tokens must be uint8, or uint16 or int32 within 0...255;
    /// indices int32 or int64) or shape; tokens outside the vocabulary (labels may also be the ignore label);
    /// `puzzle_indices` or `group_indices` that do not start at 0, decrease or do not end at the row or
    /// puzzle count; identifiers outside `num_puzzle_identifiers`; an `identifiers.json` that is not a
    /// list of `num_puzzle_identifiers` strings; a `test_puzzles.json` ARC would refuse, or that
    /// repeats a puzzle.
    public static func load(path: String) throws -> OfficialDataset {
        let (metadata, identifiers) = try readHeader(path: path)
        let dir = path + "/" + split
        let sets = try metadata.sets.map { try readSet($0, in: dir, metadata: metadata) }
        let puzzlesFile = path + "/test_puzzles.json"
        var testPuzzles: [ARCPuzzle]?
        if FileManager.default.fileExists(atPath: puzzlesFile) {
            let puzzles = try ARCDataset.parse(
                bytes: try AtomicFile.read(puzzlesFile, limit: ARCDataset.maxFileBytes), file: puzzlesFile, split: .evaluation)
            var seen = Set<String>()
            if let repeated = puzzles.first(where: { !seen.insert($0.name).inserted }) {
                throw TRMError(.invalidInput, "\(puzzlesFile): puzzle \(repeated.name) appears more than once")
            }
            testPuzzles = puzzles
        }
        return OfficialDataset(path: path, metadata: metadata, sets: sets, identifiers: identifiers, testPuzzles: testPuzzles)
    }

    /// Refuses a model whose identifier table (`plan.identifiers`) is not `identifiers.json`, naming the
    /// first difference. A model without a table counts as `["<blank>"]`, the table of the Sudoku and
    /// Maze builders.
    public func checkIdentifiers(model: [String]) throws {
        let mine = model.isEmpty ? ["<blank>"] : model
        let file = path + "/identifiers.json"
        if let i = zip(mine, identifiers).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            throw TRMError(
                .invalidInput, "the model's identifier \(i) is '\(mine[i])' but \(file) names it '\(identifiers[i])'")
        }
        guard mine.count == identifiers.count else {
            let n = min(mine.count, identifiers.count)
            let extra =
                mine.count > n
                ? "the model's identifier \(n) '\(mine[n])' is not in it" : "its identifier \(n) '\(identifiers[n])' is not in the model"
            throw TRMError(.invalidInput, "the model has \(mine.count) identifiers and \(file) \(identifiers.count): \(extra)")
        }
    }

    /// Largest dataset.json read.
    public static let maxMetadataBytes = 1 << 20

    /// The folder's `test/dataset.json` and `identifiers.json`, validated as `load` validates them,
    /// without the arrays: what a model trained on the folder must agree with (trm-compile's
    /// `--dataset`). The one reader of these two files.
    public static func readHeader(path: String) throws -> (metadata: OfficialMetadata, identifiers: [String]) {
        let metadataFile = path + "/" + split + "/dataset.json"
        guard FileManager.default.fileExists(atPath: metadataFile) else {
            throw TRMError(.io, "\(path): no \(split)/dataset.json (the layout of TinyRecursiveModels' datasets)")
        }
        let metadata = try OfficialMetadata.parse(try AtomicFile.read(metadataFile, limit: maxMetadataBytes), file: metadataFile)
        let identifiers = try readIdentifiers(path + "/identifiers.json", count: metadata.numPuzzleIdentifiers, metadataFile: metadataFile)
        return (metadata, identifiers)
    }

    // MARK: Reading

    private static func readIdentifiers(_ file: String, count: Int, metadataFile: String) throws -> [String] {
        guard case .array(let list) = try ARCDataset.document(file) else {
            throw TRMError(.invalidInput, "\(file): expected a list of names")
        }
        let names = try list.enumerated().map { i, item -> String in
            guard case .string(let s) = item else { throw TRMError(.invalidInput, "\(file): entry \(i) is \(item.kind), expected a name") }
            return s
        }
        guard names.count == count else {
            throw TRMError(.invalidInput, "\(file): \(names.count) names, but \(metadataFile) has num_puzzle_identifiers \(count)")
        }
        return names
    }

    private static func readSet(_ name: String, in dir: String, metadata m: OfficialMetadata) throws -> OfficialSet {
        func file(_ array: String) -> String { "\(dir)/\(name)__\(array).npy" }
        let inputs = try tokens(file("inputs"), seqLen: m.seqLen) { Int($0) < m.vocabSize }
        let labels = try tokens(file("labels"), seqLen: m.seqLen) { Int($0) < m.vocabSize || Int($0) == m.ignoreLabelId }
        guard labels.count == inputs.count else {
            throw TRMError(
                .invalidInput, "\(file("labels")): \(labels.count / m.seqLen) rows, but \(file("inputs")) has \(inputs.count / m.seqLen)")
        }
        let rows = inputs.count / m.seqLen
        let puzzleIndices = try offsets(file("puzzle_indices"), end: rows, of: "rows in \(file("inputs"))")
        let puzzles = puzzleIndices.count - 1
        let ids = try integers(file("puzzle_identifiers"))
        guard ids.count == puzzles else {
            throw TRMError(
                .invalidInput, "\(file("puzzle_identifiers")): \(ids.count) identifiers for the \(puzzles) puzzles of puzzle_indices")
        }
        if let p = ids.indices.first(where: { !(0..<m.numPuzzleIdentifiers).contains(ids[$0]) }) {
            throw TRMError(
                .invalidInput,
                "\(file("puzzle_identifiers")): puzzle \(p) has identifier \(ids[p]), outside 0..<\(m.numPuzzleIdentifiers) (num_puzzle_identifiers)"
            )
        }
        let groupIndices = try offsets(file("group_indices"), end: puzzles, of: "puzzles in \(file("puzzle_indices"))")
        return OfficialSet(
            name: name, seqLen: m.seqLen, inputs: inputs, labels: labels, puzzleIdentifiers: ids, puzzleIndices: puzzleIndices,
            groupIndices: groupIndices)
    }

    /// A [rows, seqLen] token array as bytes, every token accepted by `valid`.
    private static func tokens(_ file: String, seqLen: Int, valid: (UInt8) -> Bool) throws -> [UInt8] {
        let (values, shape) = try Npy.read(path: file)
        guard shape.count == 2, shape[1] == seqLen else {
            throw TRMError(.invalidInput, "\(file): shape \(shape), expected [rows, \(seqLen)] (seq_len)")
        }
        let bytes: [UInt8]
        switch values {
        case .uint8(let v): bytes = v
        case .uint16(let v) where v.allSatisfy({ $0 <= 255 }): bytes = v.map { UInt8($0) }
        case .int32(let v) where v.allSatisfy({ (0...255).contains($0) }): bytes = v.map { UInt8($0) }
        default:
            throw TRMError(.invalidInput, "\(file): \(values.dtypeName) values, expected uint8 tokens (or uint16 or int32 within 0...255)")
        }
        if let i = bytes.firstIndex(where: { !valid($0) }) {
            throw TRMError(
                .invalidInput, "\(file): token \(bytes[i]) at row \(i / seqLen), position \(i % seqLen) is outside the vocabulary")
        }
        return bytes
    }

    /// A one-dimensional int32 (or int64) array.
    private static func integers(_ file: String) throws -> [Int] {
        let (values, shape) = try Npy.read(path: file)
        guard shape.count == 1 else { throw TRMError(.invalidInput, "\(file): shape \(shape), expected one dimension") }
        guard case .int32(let v) = values else { throw TRMError(.invalidInput, "\(file): \(values.dtypeName) values, expected int32") }
        return v.map(Int.init)
    }

    /// Offsets into something of `end` items: they start at 0, never decrease and end at `end`.
    private static func offsets(_ file: String, end: Int, of what: String) throws -> [Int] {
        let v = try integers(file)
        guard v.first == 0 else { throw TRMError(.invalidInput, "\(file): starts at \(v.first.map(String.init) ?? "nothing"), expected 0") }
        if let i = v.indices.dropFirst().first(where: { v[$0] < v[$0 - 1] }) {
            throw TRMError(.invalidInput, "\(file): entry \(i) (\(v[i])) is below entry \(i - 1) (\(v[i - 1])): offsets must not decrease")
        }
        guard v.last == end else { throw TRMError(.invalidInput, "\(file): ends at \(v.last!), but there are \(end) \(what)") }
        return v
    }
}

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

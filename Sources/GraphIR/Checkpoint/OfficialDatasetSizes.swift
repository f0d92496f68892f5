import Foundation
import TRMCore

/// What an official dataset folder (written by TinyRecursiveModels' dataset/build_*_dataset.py)
/// tells about a model trained on it (docs/formats.md §1.5): vocab_size, seq_len and
/// num_puzzle_identifiers from `test/dataset.json`, and `identifiers.json`, the name of each
/// puzzle identifier. The folder is read and validated by one reader, Tasks'
/// `OfficialDataset.readHeader` (trm-compile fills this from it; GraphIR reads no dataset files).
public struct OfficialDatasetSizes: Hashable, Sendable {
    public var directory: String
    public var vocab: Int
    public var seqLen: Int
    public var numPuzzleIds: Int
    /// identifiers.json, when known.
    public var identifiers: [String]?

    public init(directory: String, vocab: Int, seqLen: Int, numPuzzleIds: Int, identifiers: [String]?) {
        self.directory = directory
        self.vocab = vocab
        self.seqLen = seqLen
        self.numPuzzleIds = numPuzzleIds
        self.identifiers = identifiers
    }
}

/// Which task an official model was trained for: from its vocabulary and grid length (docs/tasks.md
/// §1.1), then from the names of the run's data paths, else the user's `--task`.
public enum OfficialTask {
    /// The tasks whose encoding has `vocab` tokens over `seqLen` cells, each with its grid side.
    public static func candidates(vocab: Int, seqLen: Int) -> [(task: TaskKind, grid: Int)] {
        let n = Int(Double(seqLen).squareRoot().rounded())
        guard n * n == seqLen else { return [] }
        return TaskKind.allCases.filter { $0.vocab(grid: n) == vocab && ($0 != .arc || n == TaskKind.arc.defaultGrid) }.map { ($0, n) }
    }

    /// The tasks a run's data paths name, word by word (`data/arc1concept-aug-1000` names arc).
    public static func named(in paths: [String]) -> Set<TaskKind> {
        var found = Set<TaskKind>()
        for path in paths {
            let base = (path as NSString).lastPathComponent.lowercased()
            let words = base.split { !$0.isLetter }.map(String.init)
            for task in TaskKind.allCases where words.contains(task.rawValue) { found.insert(task) }
        }
        return found
    }

    /// The grid length a task implies when no tensor or dataset gives it: ARC's 30 × 30 canvas, or
    /// the n × n Sudoku of vocabulary n + 2. Maze grids vary, so a Maze model needs its dataset.
    public static func impliedSeqLen(_ task: TaskKind, vocab: Int) -> Int? {
        switch task {
        case .arc: return TaskKind.arc.defaultGrid * TaskKind.arc.defaultGrid
        case .sudoku: return vocab >= 3 ? (vocab - 2) * (vocab - 2) : nil
        case .maze: return nil
        }
    }

    /// The task and grid: `explicit` when it fits, else the one task that fits, else the one that
    /// fits and that the data paths name.
    public static func resolve(vocab: Int, seqLen: Int, dataPaths: [String], explicit: TaskKind?) throws -> (task: TaskKind, grid: Int) {
        let fits = candidates(vocab: vocab, seqLen: seqLen)
        if let task = explicit {
            guard let c = fits.first(where: { $0.task == task }) else {
                throw TRMError(
                    .invalidInput,
                    "--task \(task.rawValue) does not fit this model's vocab \(vocab) and seq_len \(seqLen) (docs/tasks.md §1.1)")
            }
            return c
        }
        if fits.count == 1 { return fits[0] }
        let named = named(in: dataPaths)
        let both = fits.filter { named.contains($0.task) }
        if both.count == 1 { return both[0] }
        let what = fits.isEmpty ? "match none of arc, sudoku, maze" : "fit " + fits.map(\.task.rawValue).joined(separator: " and ")
        let paths = dataPaths.isEmpty ? "" : ", and the data paths \(dataPaths) do not settle it"
        throw TRMError(
            .invalidInput, "cannot tell the task: vocab \(vocab) and seq_len \(seqLen) \(what)\(paths); pass --task arc|sudoku|maze")
    }
}

import Foundation
import TRMCore

/// One puzzle as `Evaluation` sees it: its name (the voting group and the submission key), its test
/// inputs and, when every one is known, the answers of its test pairs.
public struct EvaluationPuzzle: Sendable {
    public var name: String
    public var testInputs: [Grid]
    /// The answer of each test pair, in order; nil when any is unknown (the puzzle is then not scored).
    public var testOutputs: [Grid]?

    public init(name: String, testInputs: [Grid], testOutputs: [Grid]?) {
        self.name = name
        self.testInputs = testInputs
        self.testOutputs = testOutputs
    }

    /// A puzzle whose answers are all known.
    public init(_ truth: TaskPuzzle) {
        self.init(name: truth.name, testInputs: truth.testInputs, testOutputs: truth.testOutputs)
    }

    /// True when the answers are known, so the puzzle counts in pass@K.
    public var isScored: Bool { testOutputs != nil }
}

extension ARCPuzzle {
    /// The puzzle for `Evaluation`: scored only when every test pair carries its solution.
    public var evaluationPuzzle: EvaluationPuzzle {
        EvaluationPuzzle(name: name, testInputs: test.map(\.input), testOutputs: taskPuzzle?.testOutputs)
    }
}

/// Votes and scores for a set of puzzles of any task (ARC, Sudoku, Maze): decoded predictions are
/// tallied per (puzzle, test pair) as they are added, ranked with the voting of docs/tasks.md §6, and read
/// back as ranked candidates, pass@K, the two attempts per test pair and, for ARC, a Kaggle
/// `submission.json`. Votes accumulate across calls, so add every version's prediction before
/// reading results.
///
/// Predictions name their puzzle, so puzzles listed under one name more than once share one voting
/// group; each listing still counts in pass@K.
public struct Evaluation: Sendable {
    /// The puzzles evaluated, in the order they are scored and shown.
    public let puzzles: [EvaluationPuzzle]
    /// The K values of `passAtK()`, ascending.
    public let ks: [Int]
    /// Predictions whose puzzle or test pair is not among `puzzles` (ignored).
    public private(set) var unmatched = 0
    /// Voting group of each puzzle name.
    private let group: [String: Int]
    /// tallies[group][test pair]
    private var tallies: [[VoteTally]]
    /// pairsByInput[group][input]: the test pairs of the group with that input (`Prediction.input`).
    private let pairsByInput: [[Grid: [Int]]]

    /// Answer submitted for a test pair without any decodable prediction: Kaggle needs a grid for
    /// every attempt, and a 1×1 black grid is a valid grid that is (almost) never right.
    public static let placeholder = Grid(rows: 1, cols: 1, cells: [0])

    /// An evaluation of `puzzles` reporting pass@K for each of `ks`.
    public init(puzzles: [EvaluationPuzzle], ks: [Int] = PassAtK.defaultKs) {
        self.puzzles = puzzles
        self.ks = ks.sorted()
        var group: [String: Int] = [:]
        var tallies: [[VoteTally]] = []
        var pairsByInput: [[Grid: [Int]]] = []
        for p in puzzles where group[p.name] == nil {
            group[p.name] = tallies.count
            tallies.append(Array(repeating: VoteTally(), count: p.testInputs.count))
            pairsByInput.append(Dictionary(grouping: p.testInputs.indices, by: { p.testInputs[$0] }))
        }
        self.group = group
        self.tallies = tallies
        self.pairsByInput = pairsByInput
    }

    /// An evaluation of ARC puzzles (see `ARCPuzzle.evaluationPuzzle`).
    public init(puzzles: [ARCPuzzle], ks: [Int] = PassAtK.defaultKs) {
        self.init(puzzles: puzzles.map(\.evaluationPuzzle), ks: ks)
    }

    /// Adds one prediction (already decoded into the original frame; a nil answer casts no vote) to
    /// its test pair, or, when it names its `input`, to every test pair of the puzzle with that input.
    public mutating func add(_ prediction: Prediction) {
        guard let g = group[prediction.puzzle] else {
            unmatched += 1
            return
        }
        let pairs =
            prediction.input.map { pairsByInput[g][$0] ?? [] }
            ?? (tallies[g].indices.contains(prediction.testIndex) ? [prediction.testIndex] : [])
        if pairs.isEmpty { unmatched += 1 }
        for i in pairs { tallies[g][i].add(prediction) }
    }

    /// Adds every prediction of `list`, in order.
    public mutating func add<S: Sequence>(contentsOf list: S) where S.Element == Prediction {
        for p in list { add(p) }
    }

    /// Ranked candidates of each test pair of a puzzle; empty for an unknown puzzle.
    public func ranked(puzzle: String) -> [[Candidate]] {
        guard let g = group[puzzle] else { return [] }
        return tallies[g].map(\.ranked)
    }

    /// Ranked candidates of one test pair; empty for an unknown puzzle or pair, or without votes.
    public func ranked(puzzle: String, testIndex: Int) -> [Candidate] {
        guard let g = group[puzzle], tallies[g].indices.contains(testIndex) else { return [] }
        return tallies[g][testIndex].ranked
    }

    /// pass@K over the scored puzzles (fractional credit for several test pairs; a pair without
    /// candidates scores 0). Puzzles lacking a solution are left out of the denominator too;
    /// `unscoredPuzzles` counts them.
    public func passAtK() -> PassAtK {
        var score = PassAtK(ks: ks)
        for puzzle in puzzles {
            guard let truth = puzzle.testOutputs else { continue }
            score.add(pairs: zip(ranked(puzzle: puzzle.name), truth).map { ($0, $1) })
        }
        return score
    }

    /// Puzzles with at least one test pair lacking its solution.
    public var unscoredPuzzles: Int { puzzles.filter { !$0.isScored }.count }

    /// Metrics named as the reference logs them: "<task>/pass@K" (e.g. "ARC/pass@2") -> fraction of
    /// scored puzzles (0...1).
    public func metrics(task: String) -> [String: Double] {
        let score = passAtK()
        return Dictionary(uniqueKeysWithValues: ks.map { ("\(task)/pass@\($0)", score.rate($0)) })
    }

    /// The two attempts of every test pair, by puzzle name: the top two candidates, the first
    /// repeated when there is only one, `placeholder` twice when there is none.
    public func attempts() -> [String: [(Grid, Grid)]] {
        group.mapValues { g in attempts(group: g).map { $0 ?? (Self.placeholder, Self.placeholder) } }
    }

    /// The two attempts of each test pair of a puzzle, as `attempts()` and the submission choose them;
    /// nil for a pair without candidates. Empty for an unknown puzzle.
    public func attempts(puzzle: String) -> [(Grid, Grid)?] {
        guard let g = group[puzzle] else { return [] }
        return attempts(group: g)
    }

    /// The attempts of each test pair of a voting group; nil for a pair without candidates.
    private func attempts(group g: Int) -> [(Grid, Grid)?] {
        tallies[g].map { tally in
            let top = tally.ranked.prefix(2).map(\.answer)
            guard let first = top.first else { return nil }
            return (first, top.count > 1 ? top[1] : first)
        }
    }

    /// How `submissionJSON` lays out the file.
    public enum SubmissionStyle: Sendable {
        /// trm's: keys sorted, compact; a pair without candidates gets `placeholder` for both attempts.
        case sorted
        /// The reference evaluator's (`evaluators/arc.py`, `json.dump`): puzzles in the order of
        /// `puzzles`, Python's default separators and ASCII escapes; a pair without candidates is left
        /// out of its puzzle's list.
        case reference
    }

    /// ARC's Kaggle `submission.json`: {puzzle: [{"attempt_1": grid, "attempt_2": grid} per test
    /// pair]}, laid out as `style` says.
    public func submissionJSON(style: SubmissionStyle = .sorted) throws -> [UInt8] {
        switch style {
        case .sorted:
            var object: [String: Any] = [:]
            for (name, pairs) in attempts() {
                object[name] = pairs.map { ["attempt_1": $0.0.nested, "attempt_2": $0.1.nested] as [String: Any] }
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return [UInt8](data)
        case .reference:
            var seen = Set<String>()
            let listed = puzzles.map(\.name).filter { seen.insert($0).inserted }
            return PythonJSON.submission(listed.map { ($0, attempts(group: group[$0]!).compactMap { $0 }) })
        }
    }

    /// Writes `submissionJSON(style:)` to `path` atomically.
    public func writeSubmission(to path: String, style: SubmissionStyle = .sorted) throws {
        try AtomicFile.write(try submissionJSON(style: style), to: path)
    }
}

/// JSON laid out as Python's `json.dump` writes it with its defaults: `", "` between items, `": "`
/// after keys, every character outside printable ASCII as a `\uXXXX` escape (lower-case hex, UTF-16
/// surrogate pairs). The reference evaluator writes `submission.json` this way, so trm's file can be
/// compared with it byte for byte.
enum PythonJSON {
    /// A string literal as `json.dumps(s)` (ensure_ascii) writes it.
    static func string(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }

    /// A grid as nested lists: `[[1, 2], [3, 4]]`; a 0×0 grid is `[]`.
    static func grid(_ g: Grid) -> String {
        "[" + g.nested.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
    }

    /// `{"<puzzle>": [{"attempt_1": grid, "attempt_2": grid}, ...], ...}` in the order given.
    static func submission(_ puzzles: [(name: String, attempts: [(Grid, Grid)])]) -> [UInt8] {
        let members = puzzles.map { name, attempts in
            let pairs = attempts.map { "{\"attempt_1\": \(grid($0.0)), \"attempt_2\": \(grid($0.1))}" }
            return string(name) + ": [" + pairs.joined(separator: ", ") + "]"
        }
        return Array(("{" + members.joined(separator: ", ") + "}").utf8)
    }
}

import Foundation
import TRMCore

/// Collects decoded predictions for a set of ARC puzzles and turns them into pass@K scores and a
/// Kaggle `submission.json` (docs/tasks.md §6). Predictions are grouped by (puzzle, test pair) and ranked
/// with `Voting.rank`; votes accumulate across calls, so add every version's prediction before
/// reading results.
public struct ARCEvaluation: Sendable {
    /// The puzzles evaluated, in submission order.
    public let puzzles: [ARCPuzzle]
    /// The K values of `passAtK()`.
    public let ks: [Int]
    /// Predictions whose puzzle or test pair is not among `puzzles` (ignored).
    public private(set) var unmatched = 0
    private let position: [String: Int]
    /// predictions[puzzle][test pair]
    private var predictions: [[[Prediction]]]

    /// Answer submitted for a test pair without any decodable prediction: Kaggle needs a grid for
    /// every attempt, and a 1×1 black grid is a valid grid that is (almost) never right.
    public static let placeholder = Grid(rows: 1, cols: 1, cells: [0])

    public init(puzzles: [ARCPuzzle], ks: [Int] = PassAtK.defaultKs) {
        self.puzzles = puzzles
        self.ks = ks
        var position: [String: Int] = [:]
        for (i, p) in puzzles.enumerated() where position[p.name] == nil { position[p.name] = i }
        self.position = position
        predictions = puzzles.map { [[Prediction]](repeating: [], count: $0.test.count) }
    }

    /// Adds one prediction (already decoded into the original frame; a nil answer casts no vote).
    public mutating func add(_ prediction: Prediction) {
        guard let p = position[prediction.puzzle], predictions[p].indices.contains(prediction.testIndex) else {
            unmatched += 1
            return
        }
        predictions[p][prediction.testIndex].append(prediction)
    }

    public mutating func add<S: Sequence>(contentsOf list: S) where S.Element == Prediction {
        for p in list { add(p) }
    }

    /// Ranked candidates of one test pair; empty for an unknown puzzle or pair, or without votes.
    public func ranked(puzzle: String, testIndex: Int) -> [Candidate] {
        guard let p = position[puzzle], predictions[p].indices.contains(testIndex) else { return [] }
        return Voting.rank(predictions[p][testIndex])
    }

    /// pass@K over the puzzles whose test solutions are all known (fractional credit for several
    /// test pairs; a pair without candidates scores 0). Puzzles lacking a solution are left out of
    /// the denominator too; `unscoredPuzzles` counts them.
    public func passAtK() -> PassAtK {
        var score = PassAtK(ks: ks)
        for (p, puzzle) in puzzles.enumerated() where puzzle.hasSolutions {
            score.add(pairs: puzzle.test.enumerated().map { i, pair in (Voting.rank(predictions[p][i]), pair.output!) })
        }
        return score
    }

    /// Puzzles with at least one test pair lacking its solution.
    public var unscoredPuzzles: Int { puzzles.filter { !$0.hasSolutions }.count }

    /// Metrics named as the reference logs them: "ARC/pass@K" -> fraction of scored puzzles (0...1).
    public func metrics() -> [String: Double] {
        let score = passAtK()
        return Dictionary(uniqueKeysWithValues: ks.map { ("ARC/pass@\($0)", score.rate($0)) })
    }

    /// The two attempts of every test pair: the top two candidates, the first repeated when there is
    /// only one, `placeholder` twice when there is none.
    public func attempts() -> [String: [(Grid, Grid)]] {
        var out: [String: [(Grid, Grid)]] = [:]
        for (p, puzzle) in puzzles.enumerated() {
            out[puzzle.name] = predictions[p].map { votes in
                let top = Voting.rank(votes).prefix(2).map(\.answer)
                let first = top.first ?? Self.placeholder
                return (first, top.count > 1 ? top[1] : first)
            }
        }
        return out
    }

    /// Kaggle `submission.json`: {puzzle: [{"attempt_1": grid, "attempt_2": grid} per test pair]},
    /// keys sorted, compact.
    public func submissionJSON() throws -> [UInt8] {
        var object: [String: Any] = [:]
        for (name, pairs) in attempts() {
            object[name] = pairs.map { ["attempt_1": $0.0.nested, "attempt_2": $0.1.nested] as [String: Any] }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return [UInt8](data)
    }

    /// Writes `submissionJSON()` to `path` atomically.
    public func writeSubmission(to path: String) throws {
        try AtomicFile.write(try submissionJSON(), to: path)
    }
}

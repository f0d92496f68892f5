import Foundation

/// One decoded prediction for one test pair of one puzzle: the answer after undoing the query's
/// augmentation (nil when the output could not be decoded) and its q_halt logit.
public struct Prediction: Sendable {
    public var puzzle: String
    public var testIndex: Int
    public var answer: Grid?
    public var qHalt: Float
    /// The test input the prediction answers, in the puzzle's original frame. When set, the vote goes
    /// to every test pair of the puzzle with this input, as the reference evaluator keys votes by
    /// (puzzle, hash of the de-augmented input); `testIndex` is then not used.
    public var input: Grid?

    public init(puzzle: String, testIndex: Int, answer: Grid?, qHalt: Float, input: Grid? = nil) {
        self.puzzle = puzzle
        self.testIndex = testIndex
        self.answer = answer
        self.qHalt = qHalt
        self.input = input
    }
}

/// A distinct answer with its votes.
public struct Candidate: Sendable {
    public var answer: Grid
    public var count: Int
    /// Mean of sigmoid(q_halt) over the votes (float64, as the reference).
    public var meanConfidence: Double
}

/// The votes cast for one test pair, tallied as predictions arrive: every distinct answer with its
/// vote count and summed sigmoid(q_halt), in the order the answers were first seen. Ranking reads
/// the tally; the predictions themselves are not kept.
public struct VoteTally: Sendable {
    private struct Votes: Sendable {
        var count = 0
        var qsum = 0.0
    }

    private var order: [Grid] = []
    private var votes: [Grid: Votes] = [:]

    /// An empty tally.
    public init() {}

    /// The tally of `predictions`, in order.
    public init<S: Sequence>(_ predictions: S) where S.Element == Prediction {
        for p in predictions { add(p) }
    }

    /// Casts one vote for the prediction's answer; an undecodable prediction (nil answer) casts none.
    public mutating func add(_ prediction: Prediction) {
        guard let a = prediction.answer else { return }
        if votes[a] == nil { order.append(a) }
        votes[a, default: Votes()].count += 1
        votes[a, default: Votes()].qsum += 1 / (1 + exp(-Double(prediction.qHalt)))
    }

    /// The candidates ranked as `Voting.rank` ranks them.
    public var ranked: [Candidate] {
        let candidates = order.map { a in
            Candidate(answer: a, count: votes[a]!.count, meanConfidence: votes[a]!.qsum / Double(votes[a]!.count))
        }
        return candidates.enumerated().sorted { x, y in
            if x.element.count != y.element.count { return x.element.count > y.element.count }
            if x.element.meanConfidence != y.element.meanConfidence { return x.element.meanConfidence > y.element.meanConfidence }
            return x.offset < y.offset
        }.map(\.element)
    }
}

/// Augmentation voting (docs/tasks.md §6): candidates ranked by (vote count, mean sigmoid(q_halt))
/// descending; remaining ties keep the order in which answers were first seen.
public enum Voting {
    public static func rank(_ predictions: [Prediction]) -> [Candidate] {
        VoteTally(predictions).ranked
    }
}

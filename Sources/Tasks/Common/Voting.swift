import Foundation

/// One decoded prediction for one test pair of one puzzle: the answer after undoing the query's
/// augmentation (nil when the output could not be decoded) and its q_halt logit.
public struct Prediction: Sendable {
    public var puzzle: String
    public var testIndex: Int
    public var answer: Grid?
    public var qHalt: Float

    public init(puzzle: String, testIndex: Int, answer: Grid?, qHalt: Float) {
        self.puzzle = puzzle
        self.testIndex = testIndex
        self.answer = answer
        self.qHalt = qHalt
    }
}

/// A distinct answer with its votes.
public struct Candidate: Sendable {
    public var answer: Grid
    public var count: Int
    /// Mean of sigmoid(q_halt) over the votes (float64, as the reference).
    public var meanConfidence: Double
}

/// Augmentation voting (docs/tasks.md §6): candidates ranked by (vote count, mean sigmoid(q_halt))
/// descending; remaining ties keep the order in which answers were first seen.
public enum Voting {
    public static func rank(_ predictions: [Prediction]) -> [Candidate] {
        var order: [Grid] = []
        var tally: [Grid: (count: Int, qsum: Double)] = [:]
        for p in predictions {
            guard let a = p.answer else { continue }
            if tally[a] == nil { order.append(a) }
            let q = 1 / (1 + exp(-Double(p.qHalt)))
            tally[a, default: (0, 0)].count += 1
            tally[a, default: (0, 0)].qsum += q
        }
        let candidates = order.map { a in Candidate(answer: a, count: tally[a]!.count, meanConfidence: tally[a]!.qsum / Double(tally[a]!.count)) }
        return candidates.enumerated().sorted { x, y in
            if x.element.count != y.element.count { return x.element.count > y.element.count }
            if x.element.meanConfidence != y.element.meanConfidence { return x.element.meanConfidence > y.element.meanConfidence }
            return x.offset < y.offset
        }.map(\.element)
    }
}

/// pass@K with fractional credit for puzzles with several test pairs (docs/tasks.md §6).
public struct PassAtK: Sendable {
    /// The K values reported, ascending.
    public var ks: [Int]
    /// Score per K, summed over puzzles (each puzzle adds passing pairs / its pairs).
    public var scores: [Int: Double]
    /// Puzzles scored.
    public var puzzles: Int
    /// Most ranked candidates any scored test pair had.
    public private(set) var maxCandidates = 0

    public static let defaultKs = [1, 2, 5, 10, 100, 1000]

    public init(ks: [Int] = PassAtK.defaultKs) {
        self.ks = ks.sorted()
        scores = Dictionary(uniqueKeysWithValues: ks.map { ($0, 0.0) })
        puzzles = 0
    }

    /// Adds one puzzle: for each test pair, its ranked candidates and its true answer. A pair with no
    /// candidate scores 0 for every K.
    public mutating func add(pairs: [(ranked: [Candidate], truth: Grid)]) {
        puzzles += 1
        guard !pairs.isEmpty else { return }
        maxCandidates = max(maxCandidates, pairs.map(\.ranked.count).max() ?? 0)
        for k in ks {
            let passing = pairs.filter { pair in pair.ranked.prefix(k).contains { $0.answer == pair.truth } }.count
            scores[k, default: 0] += Double(passing) / Double(pairs.count)
        }
    }

    /// The K values that can differ: up to the first K that covers every candidate of every pair
    /// (pass@K for any larger K equals it), at least the smallest K.
    public var informativeKs: [Int] {
        guard let cut = ks.firstIndex(where: { $0 >= maxCandidates }) else { return ks }
        return Array(ks[...cut])
    }

    /// Fraction of puzzles passing at K (0...1).
    public func rate(_ k: Int) -> Double { puzzles == 0 ? 0 : (scores[k] ?? 0) / Double(puzzles) }
}

import TRMCore

/// The draws the Sudoku and Maze generators make, written out (not `Int.random(in:using:)` or
/// `shuffle(using:)`) so that generated files cannot change with the standard library's algorithms.
extension SeededRandom {
    /// Uniform in 0..<n (n > 0), without modulo bias.
    mutating func uniform(_ n: Int) -> Int { ARCAugmentation.uniform(n, &self) }

    /// Fisher-Yates shuffle of `a` in place.
    mutating func shuffle<T>(_ a: inout [T]) {
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, uniform(i + 1)) }
    }

    /// A uniformly random permutation of 0..<n.
    mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { p > 0 && nextUnit() < p }
}

import TRMCore

/// One augmented version of an ARC puzzle (docs/tasks.md §2): recolour every cell through `colourMap`,
/// then apply dihedral transform `transform`. Its identifier name is the reference's
/// `<puzzle>|||t<transform>|||<colourMap as 10 digits>`; the identity version is named by the puzzle
/// alone, as the reference names the original puzzle of each group.
public struct ARCVersion: Hashable, Sendable, CustomStringConvertible {
    /// Dihedral transform 0...7 (numbered as `Dihedral`).
    public var transform: Int
    /// `colourMap[c]` is the new colour of colour c: a permutation of 0...9 (augmentation keeps 0).
    public var colourMap: [UInt8]

    public init(transform: Int, colourMap: [UInt8]) {
        precondition((0..<8).contains(transform), "ARCVersion: transform \(transform) is not 0...7")
        precondition(colourMap.sorted() == Array(0...9), "ARCVersion: colour map \(colourMap) is not a permutation of 0...9")
        self.transform = transform
        self.colourMap = colourMap
    }

    /// No transform, colours unchanged.
    public static let identity = ARCVersion(transform: 0, colourMap: Array(0...9))

    /// Separator between the puzzle, the transform and the colour map in identifier names.
    public static let separator = "|||"

    public var isIdentity: Bool { self == .identity }

    /// The inverse colour permutation: the argsort of `colourMap` (new colour -> original colour).
    public var inverseColourMap: [UInt8] {
        var inverse = [UInt8](repeating: 0, count: 10)
        for (c, mapped) in colourMap.enumerated() { inverse[Int(mapped)] = UInt8(c) }
        return inverse
    }

    /// The grid as this version shows it: dihedral_t(colourMap[grid]).
    public func apply(_ grid: Grid) -> Grid {
        Dihedral.apply(transform, grid.mapped(colourMap))
    }

    /// Undoes `apply`: undo the dihedral transform, then the colours. Cells outside 0...9 (never
    /// produced by `ARCEncoding.crop`) would trap, so callers pass cropped or validated grids.
    public func invert(_ grid: Grid) -> Grid {
        Dihedral.invert(transform, grid).mapped(inverseColourMap)
    }

    /// The puzzle as this version shows it, renamed to the version's identifier name.
    public func apply(to puzzle: ARCPuzzle) -> ARCPuzzle {
        func pair(_ p: ARCPair) -> ARCPair { ARCPair(input: apply(p.input), output: p.output.map(apply)) }
        return ARCPuzzle(name: name(of: puzzle.name), train: puzzle.train.map(pair), test: puzzle.test.map(pair))
    }

    /// The identifier name of this version of `puzzle`, e.g. `8be77c9e|||t7|||0612397845`; the
    /// identity version is named `puzzle` itself.
    public func name(of puzzle: String) -> String {
        if isIdentity { return puzzle }
        let digits = colourMap.map { String($0) }.joined()
        return "\(puzzle)\(Self.separator)t\(transform)\(Self.separator)\(digits)"
    }

    /// Splits an identifier name into the original puzzle and the version; a name without the
    /// separator is the identity version of itself. Nil for a malformed suffix (transform outside
    /// 0...7, or a colour map that is not 10 digits forming a permutation of 0...9).
    public static func parse(_ name: String) -> (puzzle: String, version: ARCVersion)? {
        let parts = name.components(separatedBy: separator)
        if parts.count == 1 { return (name, .identity) }
        guard parts.count == 3, parts[0].isEmpty == false,
            parts[1].hasPrefix("t"), let t = Int(parts[1].dropFirst()), (0..<8).contains(t),
            parts[2].count == 10
        else { return nil }
        // ASCII digits only: `wholeNumberValue` would also accept other scripts' digits.
        let digits = parts[2].utf8.compactMap { (48...57).contains($0) ? $0 - 48 : nil }
        guard digits.count == 10, digits.sorted() == Array(0...9) else { return nil }
        return (parts[0], ARCVersion(transform: t, colourMap: digits))
    }

    public var description: String { name(of: "") }
}

/// Deterministic augmentation of ARC puzzles.
public enum ARCAugmentation {
    /// Draws allowed per wanted augmented version before giving up (the reference's 5).
    public static let retriesFactor = 5

    /// The identity version followed by up to `count - 1` distinct augmented versions of `puzzle`:
    /// each draw is a transform 0...7 and a permutation of colours 1...9 (0 stays 0), skipped when the
    /// puzzle's resulting set of (input, output) pairs equals that of an earlier version, so symmetric
    /// or few-coloured puzzles get fewer versions. At most `retriesFactor × (count - 1)` draws.
    /// The draws come from a stream derived from `seed` and the puzzle's name, so a puzzle's versions
    /// do not depend on which other puzzles are augmented or in what order.
    public static func versions(of puzzle: ARCPuzzle, count: Int, seed: UInt64) -> [ARCVersion] {
        guard count > 0 else { return [] }
        var rng = SeededRandom(seed: seed).fork(stableHash(puzzle.name))
        let pairs = puzzle.train + puzzle.test
        var seen: Set<Set<ARCPair>> = [Set(pairs)]
        var result: [ARCVersion] = [.identity]
        var tries = 0
        while result.count < count && tries < retriesFactor * (count - 1) {
            tries += 1
            let t = uniform(8, &rng)
            var colours: [UInt8] = Array(1...9)
            for i in stride(from: colours.count - 1, to: 0, by: -1) {
                colours.swapAt(i, uniform(i + 1, &rng))
            }
            let version = ARCVersion(transform: t, colourMap: [0] + colours)
            let key = Set(pairs.map { ARCPair(input: version.apply($0.input), output: $0.output.map(version.apply)) })
            if seen.insert(key).inserted { result.append(version) }
        }
        return result
    }

    /// Uniform in 0..<n without modulo bias; written out (not `Int.random(in:using:)`) so the draws,
    /// and hence identifier names, cannot change with the standard library's algorithm.
    static func uniform(_ n: Int, _ rng: inout SeededRandom) -> Int {
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let x = rng.next()
            if x >= threshold { return Int(x % bound) }
        }
    }

    /// FNV-1a of the UTF-8 bytes: stable across runs and platforms, unlike `Hasher`.
    static func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}

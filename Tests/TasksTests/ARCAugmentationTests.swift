import Testing
@testable import Tasks

@Suite struct ARCAugmentationTests {
    let nonSquare = Grid([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]])!

    @Test func namesFollowTheReferenceAndParseBack() throws {
        let v = ARCVersion(transform: 7, colourMap: [0, 6, 1, 2, 3, 9, 7, 8, 4, 5])
        #expect(v.name(of: "8be77c9e") == "8be77c9e|||t7|||0612397845")
        let parsed = try #require(ARCVersion.parse("8be77c9e|||t7|||0612397845"))
        #expect(parsed.puzzle == "8be77c9e" && parsed.version == v)
        #expect(ARCVersion.identity.name(of: "8be77c9e") == "8be77c9e")  // the original keeps its name
        #expect(ARCVersion.parse("8be77c9e")?.version == .identity)
        #expect(ARCVersion.parse("8be77c9e|||t0|||0123456789")?.version == .identity)
        for bad in [
            "p|||t8|||0123456789", "p|||t1|||012345678", "p|||t1|||0123456788", "p|||x1|||0123456789",
            "p|||t1", "|||t1|||0123456789", "p|||t1|||01234567٨9", "p|||t1|||0123456789|||x",
        ] {
            #expect(ARCVersion.parse(bad) == nil, "\(bad)")
        }
        #expect(v.inverseColourMap == [0, 2, 3, 4, 8, 9, 1, 6, 7, 5])  // argsort of the map
    }

    @Test func versionsInvertOnNonSquareGrids() {
        var rng = SeededRandomForTests(seed: 3)
        for t in 0..<8 {
            let map: [UInt8] = [0] + Array(1...9).shuffled(using: &rng).map(UInt8.init)
            let v = ARCVersion(transform: t, colourMap: map)
            let shown = v.apply(nonSquare)
            #expect(v.invert(shown) == nonSquare)
            #expect(shown == Dihedral.apply(t, nonSquare.mapped(map)))  // colours first, then the transform
            let parsed = ARCVersion.parse(v.name(of: "p"))!
            #expect(parsed.version.invert(shown) == nonSquare)
        }
    }

    @Test func augmentationIsDeterministicDistinctAndKeepsBlack() {
        let puzzle = ARCFixtures.puzzle(
            "abc", train: [([[1, 2, 0], [3, 4, 5]], [[5, 4, 3], [0, 2, 1]])],
            test: [([[6, 7, 8]], [[8, 7, 6]])])
        let a = ARCAugmentation.versions(of: puzzle, count: 50, seed: 7)
        #expect(a.count == 50 && a[0] == .identity)
        #expect(a == ARCAugmentation.versions(of: puzzle, count: 50, seed: 7))
        #expect(a != ARCAugmentation.versions(of: puzzle, count: 50, seed: 8))
        #expect(Set(a).count == 50 && a.allSatisfy { $0.colourMap[0] == 0 })
        #expect(
            Set(
                a.map { v -> [ARCPair] in
                    let p = v.apply(to: puzzle); return p.train + p.test
                }
            ).count == 50)
        #expect(a[1].apply(to: puzzle).name == a[1].name(of: "abc"))
        // Another puzzle name gives another stream.
        var renamed = puzzle
        renamed.name = "abd"
        #expect(ARCAugmentation.versions(of: renamed, count: 50, seed: 7) != a)
        #expect(ARCAugmentation.versions(of: puzzle, count: 1, seed: 7) == [.identity])
        #expect(ARCAugmentation.versions(of: puzzle, count: 0, seed: 7).isEmpty)
    }

    @Test func symmetricFewColourPuzzlesSaturate() {
        // Colour 1 only, on grids symmetric under all 8 transforms: each version is fixed by its
        // choice of new colour for 1, so at most 9 distinct versions exist.
        let square = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
        let puzzle = ARCFixtures.puzzle("sym", train: [(square, [[1]])], test: [([[1, 1], [1, 1]], nil)])
        let versions = ARCAugmentation.versions(of: puzzle, count: 100, seed: 1)
        #expect(versions.count == 9)
        #expect(Set(versions.map { $0.colourMap[1] }).count == 9)
        // All black: nothing changes, only the original remains.
        let black = ARCFixtures.puzzle("black", train: [([[0, 0], [0, 0]], [[0]])], test: [([[0]], [[0]])])
        #expect(ARCAugmentation.versions(of: black, count: 20, seed: 1) == [.identity])
    }

    /// `queryCount` (trm-run's progress total and shard split) is the number of queries, also when
    /// versions saturate, a puzzle has several test pairs, or the identifier table caps them.
    @Test func queryCountCountsTheQueries() {
        let square = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
        let saturating = ARCFixtures.puzzle("sym", train: [(square, [[1]])], test: [([[1, 1], [1, 1]], nil), ([[1]], nil)])
        let varied = ARCFixtures.puzzle("abc", train: [([[1, 2], [3, 4]], [[5]])], test: [([[6, 7]], [[8]])])
        let table = ARCIdentifierTable(
            ["<blank>", ARCVersion.identity.name(of: "abc"), ARCVersion(transform: 1, colourMap: (0...9).map(UInt8.init)).name(of: "abc")])
        for puzzle in [saturating, varied] {
            for (numAug, table) in [(0, nil), (7, nil), (100, nil), (7, table)] as [(Int, ARCIdentifierTable?)] {
                let queries = ARCTask.queries(for: puzzle, numAug: numAug, seed: 3, table: table)
                #expect(ARCTask.queryCount(for: puzzle, numAug: numAug, seed: 3, table: table) == queries.count, "\(puzzle.name) \(numAug)")
            }
        }
        #expect(ARCTask.queryCount(for: saturating, numAug: 100, seed: 3, table: nil) == 9 * 2)
        #expect(ARCTask.queryCount(for: varied, numAug: 7, seed: 3, table: table) == 2)
    }
}

/// A seeded generator for test data only (not the one the code under test uses).
struct SeededRandomForTests: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Testing
@testable import Tasks

@Suite struct CommonTests {
    let a = Grid([[1, 2, 3], [4, 5, 6]])!

    @Test func dihedralRoundTripsOnNonSquareGrids() {
        for t in 0..<8 {
            #expect(Dihedral.invert(t, Dihedral.apply(t, a)) == a)
            #expect(Dihedral.apply(Dihedral.inverse[t], Dihedral.apply(t, a)) == a)
        }
        #expect(Dihedral.apply(1, a) == Grid([[3, 6], [2, 5], [1, 4]])!)  // rot90 CCW
        #expect(Dihedral.apply(6, a) == Grid([[1, 4], [2, 5], [3, 6]])!)
        #expect(Dihedral.apply(7, a) == Grid([[6, 3], [5, 2], [4, 1]])!)
        #expect(Set((0..<8).map { Dihedral.apply($0, a) }).count == 8)
    }

    func prediction(_ g: Grid?, _ q: Float) -> Prediction { Prediction(puzzle: "p", testIndex: 0, answer: g, qHalt: q) }

    @Test func votingRanksByCountThenConfidence() {
        let b = Grid([[7]])!, c = Grid([[8]])!
        let ranked = Voting.rank([
            prediction(b, -3), prediction(c, 2), prediction(b, -3), prediction(a, 5), prediction(nil, 9), prediction(c, 1),
        ])
        #expect(ranked.map(\.answer) == [c, b, a])  // c and b have 2 votes; c is more confident
        #expect(ranked[0].count == 2 && ranked[2].count == 1)
        #expect(Voting.rank([prediction(nil, 1)]).isEmpty)
        let tie = Voting.rank([prediction(b, 0), prediction(c, 0)])
        #expect(tie.map(\.answer) == [b, c])  // full ties keep first-seen order
    }

    @Test func passAtKWithFractionalCreditAndMissingCandidates() {
        let b = Grid([[7]])!, c = Grid([[8]])!
        let ranked = Voting.rank([prediction(b, 1), prediction(b, 1), prediction(c, 1)])
        var p = PassAtK(ks: [1, 2, 1000])
        p.add(pairs: [(ranked, b)])  // top-1 correct
        p.add(pairs: [(ranked, c), (ranked, a)])  // c at rank 2, a never: half credit from K = 2
        p.add(pairs: [([], b)])  // nothing submitted
        #expect(p.puzzles == 3)
        #expect(abs(p.rate(1) - 1.0 / 3) < 1e-12)
        #expect(abs(p.rate(2) - 1.5 / 3) < 1e-12)
        #expect(p.rate(1000) == p.rate(2))  // K beyond the candidates changes nothing
        #expect(p.rate(1) <= p.rate(2) && p.rate(2) <= p.rate(1000))
        // Two candidates at most: K = 2 covers them, so the table stops there.
        #expect(p.maxCandidates == 2 && p.informativeKs == [1, 2])
        var wide = PassAtK(ks: [1, 2, 5])
        wide.add(pairs: [(Voting.rank((0..<9).map { prediction(Grid([[$0]])!, 1) }), b)])
        #expect(wide.informativeKs == [1, 2, 5], "9 candidates: every K can differ")
        #expect(PassAtK(ks: [1, 2]).informativeKs == [1], "no candidates: the smallest K alone")
    }
}

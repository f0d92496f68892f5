import Foundation

extension EvaluationReport {
    /// How a puzzle did: for a scored puzzle, how many test pairs one of the two attempts answers.
    struct Verdict {
        var scored: Bool
        var pairs: Int
        var right: Int

        var cssClass: String { !scored ? "unscored" : (right == pairs && pairs > 0 ? "right" : (right > 0 ? "partly" : "wrong")) }

        var text: String {
            guard scored else { return "no solution known" }
            if pairs > 1 && right > 0 && right < pairs { return "partly solved (\(right) of \(pairs) test pairs)" }
            return right == pairs && pairs > 0 ? "solved" : "not solved"
        }
    }

    /// The verdict of `puzzle` at the two attempts (pass@2, as the submission is scored).
    func verdict(of puzzle: EvaluationPuzzle) -> Verdict {
        guard let truth = puzzle.testOutputs else { return Verdict(scored: false, pairs: puzzle.testInputs.count, right: 0) }
        let attempts = evaluation.attempts(puzzle: puzzle.name)
        let right = zip(attempts, truth).filter { a, t in a.map { $0.0 == t || $0.1 == t } ?? false }.count
        return Verdict(scored: true, pairs: truth.count, right: right)
    }

    /// The section of puzzle `index`: a heading with its verdict, then each test pair.
    func section(_ index: Int, _ puzzle: EvaluationPuzzle, _ verdict: Verdict) -> String {
        var s = "<section class=\"puzzle \(verdict.cssClass)\" id=\"puzzle-\(index)\">\n"
        s += "<h2>\(index + 1). <span class=\"name\">\(Markup.escape(puzzle.name))</span> "
        s += "<span class=\"verdict\">\(verdict.text)</span></h2>\n"
        let ranked = evaluation.ranked(puzzle: puzzle.name)
        let attempts = evaluation.attempts(puzzle: puzzle.name)
        for (j, input) in puzzle.testInputs.enumerated() {
            s += pair(
                index, j, input: input, truth: puzzle.testOutputs?[j], ranked: j < ranked.count ? ranked[j] : [],
                attempts: j < attempts.count ? attempts[j] : nil)
        }
        return s + "</section>\n"
    }

    /// One test pair: input, truth and attempts side by side, then the candidates table.
    func pair(_ index: Int, _ j: Int, input: Grid, truth: Grid?, ranked: [Candidate], attempts: (Grid, Grid)?) -> String {
        let votes = ranked.map(\.count).reduce(0, +)
        let rank = truth.flatMap { t in ranked.firstIndex { $0.answer == t }.map { $0 + 1 } }
        var heading = "test \(j): \(votes) vote\(votes == 1 ? "" : "s") for \(ranked.count) candidate\(ranked.count == 1 ? "" : "s")"
        if truth != nil { heading += rank.map { "; the truth is ranked \($0)" } ?? "; the truth is not among them" }
        var s = "<div class=\"pair\" id=\"puzzle-\(index)-test-\(j)\">\n<h3>\(heading)</h3>\n<div class=\"row\">\n"
        s += figure("input", input, mark: nil)
        s += truth.map { figure("truth", $0, mark: nil) } ?? "<figure><figcaption>truth</figcaption><p>unknown</p></figure>\n"
        if let attempts {
            for (n, grid) in [attempts.0, attempts.1].enumerated() {
                s += figure("attempt \(n + 1)", grid, mark: truth.map { grid == $0 })
            }
        } else {
            s += "<figure class=\"wrong\"><figcaption>attempts</figcaption><p>no decodable prediction</p></figure>\n"
        }
        s += "</div>\n"
        guard !ranked.isEmpty else { return s + "</div>\n" }
        // One column per candidate: its rank, votes, mean sigmoid(q_halt) and answer; the right one marked.
        let shown = Array(ranked.prefix(shownCandidates))
        let marks = shown.map { c in truth.map { c.answer == $0 } ?? false }
        func row(_ title: String, _ cls: String, _ cell: (Int, Candidate) -> String) -> String {
            "<tr><th>\(title)</th>"
                + shown.enumerated().map { i, c in "<td class=\"\(cls)\(marks[i] ? " right" : "")\">\(cell(i, c))</td>" }.joined()
                + "</tr>\n"
        }
        s += "<table class=\"candidates\">\n"
        s += row("rank", "rank") { i, _ in "\(i + 1)\(marks[i] ? " ✓" : "")" }
        s += row("votes", "votes") { _, c in "\(c.count)" }
        s += row("mean sigmoid(q_halt)", "confidence") { _, c in String(format: "%.3g", c.meanConfidence) }
        s += row("answer", "answer") { _, c in style.html(c.answer) }
        s += "</table>\n"
        if ranked.count > shownCandidates {
            let rest = ranked.dropFirst(shownCandidates)
            let restVotes = rest.map(\.count).reduce(0, +)
            s += "<p class=\"more\">and \(rest.count) more candidate\(rest.count == 1 ? "" : "s") with \(restVotes) vote"
            s += "\(restVotes == 1 ? "" : "s")\(rank.map { $0 > shownCandidates ? " (the truth among them)" : "" } ?? "")</p>\n"
        }
        return s + "</div>\n"
    }

    /// A captioned grid; `mark` true/false adds "right"/"wrong".
    func figure(_ caption: String, _ grid: Grid, mark: Bool?) -> String {
        let cls = mark.map { $0 ? " class=\"right\"" : " class=\"wrong\"" } ?? ""
        let verdict = mark.map { $0 ? " — right ✓" : " — wrong ✗" } ?? ""
        return "<figure\(cls)><figcaption>\(caption)\(verdict) (\(grid.rows)×\(grid.cols))</figcaption>\(style.html(grid))</figure>\n"
    }
}
